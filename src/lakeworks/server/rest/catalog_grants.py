"""Table grants (Lake Formation permissions), natively, under ``/api/v1/catalog/grants``.

``POST`` grants, ``GET`` lists (filters as query parameters), ``POST …/revoke`` revokes; the
same :class:`~lakeworks.lake.catalog.grants.TableGrants` as the Lake Formation face.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from lakeworks.core.context import RequestContext
from lakeworks.schemas.common import Page
from lakeworks.schemas.lake_grants import (
    DatabaseResource,
    GrantResource,
    PermissionsChange,
    PrincipalResourcePermissions,
    TableResource,
)
from lakeworks.server.auth import authenticated, platform_of
from lakeworks.server.platform import Platform

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/catalog/grants", tags=["catalog"])


@router.post("", status_code=204)
def grant_permissions(
    change: PermissionsChange,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Grant permissions on a database or table (admins only)."""
    platform.catalog.grants.grant(ctx, change)
    return Response(status_code=204)


@router.post("/revoke", status_code=204)
def revoke_permissions(
    change: PermissionsChange,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Response:
    """Revoke permissions (admins only)."""
    platform.catalog.grants.revoke(ctx, change)
    return Response(status_code=204)


@router.get("")
def list_permissions(
    principal: str | None = None,
    resource_type: str | None = None,
    database_name: str | None = Query(None, description="With table_name: one resource"),
    table_name: str | None = Query(None, description="A table, or * for the table wildcard"),
    next_token: str | None = None,
    max_results: int = 100,
    ctx: RequestContext = Depends(authenticated),
    platform: Platform = Depends(platform_of),
) -> Page[PrincipalResourcePermissions]:
    """Grants (all for admins, one's own otherwise)."""
    resource = None
    if database_name is not None:
        if table_name is None:
            resource = GrantResource(database=DatabaseResource(name=database_name))
        elif table_name == "*":
            resource = GrantResource(
                table=TableResource(database_name=database_name, table_wildcard={})
            )
        else:
            resource = GrantResource(
                table=TableResource(database_name=database_name, name=table_name)
            )
    return platform.catalog.grants.list(
        ctx,
        principal=principal,
        resource_type=resource_type,
        resource=resource,
        next_token=next_token,
        max_results=max_results,
    )
