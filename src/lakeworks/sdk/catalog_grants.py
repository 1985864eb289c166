"""Table grants (Lake Formation permissions): ``client.catalog.grants``.

::

    alice = "arn:aws:iam::000000000000:user/alice"
    c.catalog.grants.create(alice, ["SELECT"], database="hr", table="people")
    c.catalog.grants.create(alice, ["DESCRIBE"], database="hr", table="*")  # every table
    [g.permissions for g in c.catalog.grants.list(principal=alice)]
    c.catalog.grants.revoke(alice, ["SELECT"], database="hr", table="people")
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from lakeworks.schemas.common import Page
from lakeworks.schemas.lake_grants import PermissionsChange, PrincipalResourcePermissions
from lakeworks.sdk._http import Transport, paginate, request_body

__all__ = ["Grants"]

_GRANTS = "/api/v1/catalog/grants"


def _resource(database: str, table: str | None) -> dict[str, Any]:
    if table is None:
        return {"database": {"name": database}}
    if table == "*":
        return {"table": {"database_name": database, "table_wildcard": {}}}
    return {"table": {"database_name": database, "name": table}}


class Grants:
    """Lake Formation permissions on catalog databases and tables."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def _change(
        self,
        principal: str,
        permissions: Sequence[str],
        database: str,
        table: str | None,
        grantable: Sequence[str],
    ) -> Any:
        return request_body(
            PermissionsChange,
            principal=principal,
            resource=_resource(database, table),
            permissions=list(permissions),
            permissions_with_grant_option=list(grantable),
        )

    def create(
        self,
        principal: str,
        permissions: Sequence[str],
        *,
        database: str,
        table: str | None = None,
        grantable: Sequence[str] = (),
    ) -> None:
        """Grant ``permissions`` on a database (``table`` None), a table, or ``table="*"``.

        Args:
            principal: The principal's ARN, ``arn:aws:iam::<account>:user/<name>``.
            permissions: ``SELECT``, ``DESCRIBE``, ``ALTER``, ``DROP``, ``ALL``.

        Raises:
            AccessDenied: The caller is not an admin.
            ValidationError: A bad principal or permission.
            NotFound: No such database or table.
        """
        body = self._change(principal, permissions, database, table, grantable)
        self._t.request("POST", _GRANTS, json=body)

    def revoke(
        self,
        principal: str,
        permissions: Sequence[str],
        *,
        database: str,
        table: str | None = None,
    ) -> None:
        """Revoke permissions granted with :meth:`create`.

        Raises:
            ValidationError: The principal holds none of them there.
        """
        body = self._change(principal, permissions, database, table, ())
        self._t.request("POST", f"{_GRANTS}/revoke", json=body)

    def list(
        self,
        *,
        principal: str | None = None,
        resource_type: str | None = None,
        database: str | None = None,
        table: str | None = None,
    ) -> Iterator[PrincipalResourcePermissions]:
        """Grants, one entry per principal and resource (admins see all, others their own)."""

        def page(token: str | None) -> tuple[list[PrincipalResourcePermissions], str | None]:
            params = {
                "principal": principal,
                "resource_type": resource_type,
                "database_name": database,
                "table_name": table,
                "next_token": token,
            }
            got = self._t.model(
                Page[PrincipalResourcePermissions],
                "GET",
                _GRANTS,
                params={k: v for k, v in params.items() if v is not None},
            )
            return got.items, got.next_token

        return paginate(page)
