"""Table grants: Lake Formation permissions on catalog databases and tables, and their checks.

Permissions: ``SELECT``, ``DESCRIBE``, ``ALTER``, ``DROP`` and ``ALL`` on a table (or on every
table of a database, the table wildcard); ``DESCRIBE``, ``ALTER``, ``DROP`` and ``ALL`` on a
database. Principals are named by their ARN, ``arn:aws:iam::<account>:user/<name>``. Only
principals with the ``admin`` scope (Lake Formation's data lake administrators) grant, revoke
or list everyone's grants; others list their own.

The policy, like Lake Formation's default of ``IAMAllowedPrincipals``:

- a table with **no grants** on it, on its database's table wildcard or on its database
  follows the caller's scopes as before (``read`` selects and describes, ``write`` alters and
  drops);
- once **any** grant exists on the table, the wildcard or the database, only principals
  holding the permission (or ``ALL``) on the table or the wildcard — and admins — may use it.
  ``SELECT`` guards queries (every table a query reads, views resolved to their base tables),
  ``DESCRIBE`` GetTable, ``ALTER`` UpdateTable and ``DROP`` DeleteTable / ``DROP TABLE``.
- A database's own grants guard ``DROP`` (DeleteDatabase) and ``ALTER`` (UpdateDatabase).
- Listings hide what the caller may not see, as Lake Formation does: GetTables leaves out a
  governed table unless the caller holds some permission on it or on the table wildcard;
  GetDatabases leaves out a database governed by its own or its wildcard's grants unless the
  caller holds some permission on it or on one of its tables.

Grants go with their table or database when it is deleted, so a new table of the same name
starts open again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AccessDenied, ValidationError
from lakeworks.lake.catalog.names import catalog_name
from lakeworks.lake.catalog.store import GrantRecord
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.schemas.common import Page
from lakeworks.schemas.lake_grants import (
    DatabaseResource,
    GrantResource,
    PermissionsChange,
    PrincipalResourcePermissions,
    TableResource,
)

if TYPE_CHECKING:
    from lakeworks.lake.catalog.service import CatalogService

__all__ = ["DATABASE_PERMISSIONS", "TABLE_PERMISSIONS", "WILDCARD", "TableGrants"]

TABLE_PERMISSIONS = ("ALL", "ALTER", "DESCRIBE", "DROP", "SELECT")
DATABASE_PERMISSIONS = ("ALL", "ALTER", "DESCRIBE", "DROP")
#: ``table_name`` of a grant on every table of a database.
WILDCARD = "*"
_ARN = re.compile(r"^arn:aws:iam::(\d{12}):user/(.{1,128})$")


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidInputException")


def _permissions(values: Iterable[str], allowed: tuple[str, ...], what: str) -> list[str]:
    checked = []
    for value in values:
        if value not in allowed:
            raise _invalid(
                f"Permission {value!r} is not supported on a {what}; use " + ", ".join(allowed)
            )
        checked.append(value)
    return sorted(set(checked))


class TableGrants:
    """Grants, revokes, lists and checks Lake Formation permissions.

    Args:
        catalog: The catalog whose databases and tables are granted.
    """

    def __init__(self, catalog: CatalogService) -> None:
        self.catalog = catalog
        self.db = catalog.db
        self.account_id = catalog.settings.aws.account_id

    # -- names -----------------------------------------------------------------------------

    def principal_of(self, arn: str) -> str:
        """The Lakeworks principal an ARN names.

        Raises:
            ValidationError: Not a user ARN of this account (``InvalidInputException``).
        """
        match = _ARN.match(arn or "")
        if match is None or match.group(1) != self.account_id:
            raise _invalid(
                f"Principal {arn!r} is not supported: use a Lakeworks principal's ARN, "
                f"arn:aws:iam::{self.account_id}:user/<name>"
            )
        return match.group(2)

    def arn_of(self, principal: str) -> str:
        """The ARN of a Lakeworks principal."""
        return f"arn:aws:iam::{self.account_id}:user/{principal}"

    def _target(self, resource: GrantResource) -> tuple[str, str]:
        """``(database, table)`` of a resource; table ``""`` for a database, ``*`` for all.

        Raises:
            ValidationError: Not exactly one of a database or a table.
            NotFound: The database or table does not exist (``EntityNotFoundException``).
        """
        if (resource.database is None) == (resource.table is None):
            raise _invalid("Resource must name exactly one of Database or Table")
        if resource.database is not None:
            return self.catalog.get_database(
                RequestContext.system(), resource.database.name
            ).name, ""
        table = resource.table
        assert table is not None
        if (table.name is None) == (table.table_wildcard is None):
            raise _invalid("A Table resource needs exactly one of Name or TableWildcard")
        database = self.catalog.get_database(RequestContext.system(), table.database_name).name
        if table.name is None:
            return database, WILDCARD
        return database, self.catalog.table_record(database, table.name).name

    def _resource(self, database: str, table: str) -> GrantResource:
        if table == "":
            return GrantResource(
                database=DatabaseResource(name=database, catalog_id=self.account_id)
            )
        if table == WILDCARD:
            return GrantResource(
                table=TableResource(
                    database_name=database, table_wildcard={}, catalog_id=self.account_id
                )
            )
        return GrantResource(
            table=TableResource(database_name=database, name=table, catalog_id=self.account_id)
        )

    def _change(self, change: PermissionsChange) -> tuple[str, str, str, list[str], list[str]]:
        principal = self.principal_of(change.principal)
        database, table = self._target(change.resource)
        allowed, what = (
            (DATABASE_PERMISSIONS, "database") if table == "" else (TABLE_PERMISSIONS, "table")
        )
        permissions = _permissions(change.permissions, allowed, what)
        grantable = _permissions(change.permissions_with_grant_option, allowed, what)
        extra = sorted(set(grantable) - set(permissions))
        if extra:
            raise _invalid(
                f"PermissionsWithGrantOption {extra} must also be in Permissions {permissions}"
            )
        return principal, database, table, permissions, grantable

    # -- operations ------------------------------------------------------------------------

    def grant(self, ctx: RequestContext, change: PermissionsChange) -> None:
        """Grant permissions (Lake Formation's GrantPermissions); granting again is a no-op.

        Raises:
            AccessDenied: The caller is not an admin.
            ValidationError: A bad principal, resource or permission (``InvalidInputException``).
            NotFound: No such database or table (``EntityNotFoundException``).
        """
        ctx.require("admin")
        principal, database, table, permissions, grantable = self._change(change)
        now = utcnow()
        with self.db.session() as session:
            for permission in permissions:
                session.merge(
                    GrantRecord(
                        principal=principal,
                        database_name=database,
                        table_name=table,
                        permission=permission,
                        grantable=permission in grantable,
                        updated_by=ctx.principal,
                        update_time=now,
                    )
                )

    def revoke(self, ctx: RequestContext, change: PermissionsChange) -> None:
        """Revoke permissions (Lake Formation's RevokePermissions).

        Raises:
            AccessDenied: The caller is not an admin.
            ValidationError: The principal holds none of them (``InvalidInputException``).
            NotFound: No such database or table.
        """
        ctx.require("admin")
        principal, database, table, permissions, _ = self._change(change)
        with self.db.session() as session:
            removed = session.execute(
                delete(GrantRecord).where(
                    GrantRecord.principal == principal,
                    GrantRecord.database_name == database,
                    GrantRecord.table_name == table,
                    GrantRecord.permission.in_(permissions),
                )
            )
            if not removed.rowcount:  # type: ignore[attr-defined]
                raise _invalid(
                    f"No permissions revoked: {change.principal} holds none of {permissions} "
                    "on that resource"
                )

    def list(
        self,
        ctx: RequestContext,
        *,
        principal: str | None = None,
        resource_type: str | None = None,
        resource: GrantResource | None = None,
        next_token: str | None = None,
        max_results: int = 100,
    ) -> Page[PrincipalResourcePermissions]:
        """Grants, one entry per principal and resource (Lake Formation's ListPermissions).

        Admins see every grant; other principals see their own.

        Raises:
            ValidationError: A bad filter, page size or token (``InvalidInputException``).
        """
        ctx.require("read")
        if isinstance(max_results, bool) or not 1 <= max_results <= 1000:
            raise _invalid(f"MaxResults must be 1-1000, got {max_results!r}")
        if resource_type not in (None, "DATABASE", "TABLE"):
            raise _invalid(
                f"ResourceType {resource_type!r} is not supported; use DATABASE or TABLE"
            )
        query = select(GrantRecord).order_by(
            GrantRecord.principal,
            GrantRecord.database_name,
            GrantRecord.table_name,
            GrantRecord.permission,
        )
        if principal is not None:
            query = query.where(GrantRecord.principal == self.principal_of(principal))
        if "admin" not in ctx.scopes:
            query = query.where(GrantRecord.principal == ctx.principal)
        if resource is not None:
            database, table = self._target(resource)
            query = query.where(
                GrantRecord.database_name == database, GrantRecord.table_name == table
            )
        if resource_type == "DATABASE":
            query = query.where(GrantRecord.table_name == "")
        elif resource_type == "TABLE":
            query = query.where(GrantRecord.table_name != "")
        with self.db.session() as session:
            rows = list(session.scalars(query))
        grouped: dict[tuple[str, str, str], list[GrantRecord]] = {}
        for row in rows:
            grouped.setdefault((row.principal, row.database_name, row.table_name), []).append(row)
        entries = [
            PrincipalResourcePermissions(
                principal=self.arn_of(key[0]),
                resource=self._resource(key[1], key[2]),
                permissions=[r.permission for r in group],
                permissions_with_grant_option=[r.permission for r in group if r.grantable],
                last_updated=max(r.update_time for r in group),
                last_updated_by=self.arn_of(max(group, key=lambda r: r.update_time).updated_by),
            )
            for key, group in grouped.items()
        ]
        offset = int(decode_token(next_token, "offset")["offset"]) if next_token else 0
        page = entries[offset : offset + max_results]
        more = offset + max_results < len(entries)
        token = encode_token({"offset": str(offset + max_results)}) if more else None
        return Page(items=page, next_token=token)

    # -- checks ----------------------------------------------------------------------------

    def check_table(self, ctx: RequestContext, database: str, table: str, permission: str) -> None:
        """Refuse ``ctx`` a table operation its grants do not allow (see the module).

        Raises:
            AccessDenied: ``AccessDeniedException`` naming the permission and the table.
        """
        if "admin" in ctx.scopes:
            return
        database, table = catalog_name(database, "database"), catalog_name(table, "table")
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(GrantRecord).where(
                        GrantRecord.database_name == database,
                        GrantRecord.table_name.in_(("", WILDCARD, table)),
                    )
                )
            )
        if not rows:
            return
        for row in rows:
            if (
                row.principal == ctx.principal
                and row.table_name in (table, WILDCARD)
                and row.permission in (permission, "ALL")
            ):
                return
        raise AccessDenied(
            f"Insufficient Lake Formation permission(s): principal {ctx.principal!r} needs "
            f"{permission} on table {database}.{table}",
            aws_code="AccessDeniedException",
            details={"database": database, "table": table, "permission": permission},
        )

    def check_database(self, ctx: RequestContext, database: str, permission: str) -> None:
        """Refuse ``ctx`` a database operation the database's own grants do not allow.

        Raises:
            AccessDenied: ``AccessDeniedException``.
        """
        if "admin" in ctx.scopes:
            return
        database = catalog_name(database, "database")
        with self.db.session() as session:
            rows = list(
                session.scalars(
                    select(GrantRecord).where(
                        GrantRecord.database_name == database, GrantRecord.table_name == ""
                    )
                )
            )
        if not rows or any(
            r.principal == ctx.principal and r.permission in (permission, "ALL") for r in rows
        ):
            return
        raise AccessDenied(
            f"Insufficient Lake Formation permission(s): principal {ctx.principal!r} needs "
            f"{permission} on database {database}",
            aws_code="AccessDeniedException",
            details={"database": database, "permission": permission},
        )

    def table_filter(self, ctx: RequestContext, database: str) -> Callable[[str], bool]:
        """Which tables of ``database`` a listing shows ``ctx`` (see the module).

        Returns:
            A predicate on a table's (normalised) name, reading the grants once.
        """
        if "admin" in ctx.scopes:
            return lambda _: True
        with self.db.session() as session:
            rows = list(
                session.scalars(select(GrantRecord).where(GrantRecord.database_name == database))
            )
        governed = {r.table_name for r in rows}
        mine = {r.table_name for r in rows if r.principal == ctx.principal}
        everything = bool(governed & {"", WILDCARD})

        def visible(table: str) -> bool:
            if WILDCARD in mine or table in mine:
                return True
            return not everything and table not in governed

        return visible

    def database_filter(self, ctx: RequestContext, databases: Iterable[str]) -> set[str]:
        """Those of ``databases`` a listing shows ``ctx`` (see the module)."""
        names = set(databases)
        if "admin" in ctx.scopes or not names:
            return names
        with self.db.session() as session:
            rows = list(
                session.scalars(select(GrantRecord).where(GrantRecord.database_name.in_(names)))
            )
        hidden = {r.database_name for r in rows if r.table_name in ("", WILDCARD)}
        hidden -= {r.database_name for r in rows if r.principal == ctx.principal}
        return names - hidden

    def forget(self, database: str, table: str | None = None) -> None:
        """Remove the grants of a deleted table (or of a database and all its tables)."""
        query = delete(GrantRecord).where(GrantRecord.database_name == database)
        if table is not None:
            query = query.where(GrantRecord.table_name == table)
        with self.db.session() as session:
            session.execute(query)
