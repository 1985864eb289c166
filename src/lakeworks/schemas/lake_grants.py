"""Table grants (Lake Formation permissions) on catalog databases and tables.

Field names are Lake Formation's, snake_cased. A principal is a Lakeworks principal's ARN
(``arn:aws:iam::<account>:user/<name>``), Lake Formation's ``DataLakePrincipalIdentifier``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "DatabaseResource",
    "GrantResource",
    "PermissionsChange",
    "PrincipalResourcePermissions",
    "TableResource",
]


class DatabaseResource(RequestModel):
    """A database, as the resource of a grant."""

    name: str
    catalog_id: str | None = None


class TableResource(RequestModel):
    """A table (``name``) or every table of a database (``table_wildcard`` = ``{}``)."""

    database_name: str
    name: str | None = None
    table_wildcard: dict[str, Any] | None = None
    catalog_id: str | None = None


class GrantResource(RequestModel):
    """Exactly one of ``database`` or ``table``."""

    database: DatabaseResource | None = None
    table: TableResource | None = None


class PermissionsChange(RequestModel):
    """A grant or a revoke: ``permissions`` of ``principal`` on ``resource``."""

    principal: str
    resource: GrantResource
    permissions: list[str] = Field(min_length=1)
    permissions_with_grant_option: list[str] = Field(default_factory=list)


class PrincipalResourcePermissions(ResponseModel):
    """What one principal holds on one resource."""

    principal: str
    resource: GrantResource
    permissions: list[str]
    permissions_with_grant_option: list[str]
    last_updated: datetime
    last_updated_by: str
