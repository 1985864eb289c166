"""AWS Lake Formation (REST-JSON, signing name ``lakeformation``): table grants.

GrantPermissions, RevokePermissions, ListPermissions, BatchGrantPermissions and
BatchRevokePermissions, each ``POST /<Action>``, mapped onto
:class:`~lakeworks.lake.catalog.grants.TableGrants`. Resources are ``Database`` and ``Table``
(a name or ``TableWildcard``); other Lake Formation resources are refused with a message.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.schemas.lake_grants import (
    GrantResource,
    PermissionsChange,
    PrincipalResourcePermissions,
)
from lakeworks.server.aws.glue import aws_input, aws_int, aws_str
from lakeworks.server.aws.protocol import Unsupported
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

_ACTIONS = (
    "GrantPermissions",
    "RevokePermissions",
    "ListPermissions",
    "BatchGrantPermissions",
    "BatchRevokePermissions",
)
_MAX_BATCH = 20


def _resolve(request: AwsRequest, settings: Settings) -> str:
    action = request.raw_path.strip("/")
    if request.method != "POST" or action not in _ACTIONS:
        raise Unsupported(
            f"The Lake Formation operation {request.method} {request.raw_path} is not "
            f"implemented by Lakeworks; {', '.join(_ACTIONS)} are"
        )
    return action


def _invalid(message: str) -> ValidationError:
    return ValidationError(message, aws_code="InvalidInputException")


def _json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body), 200, media_type="application/json")


def _principal(value: Any) -> str:
    if not isinstance(value, dict) or not isinstance(value.get("DataLakePrincipalIdentifier"), str):
        raise _invalid("Principal must be {'DataLakePrincipalIdentifier': '<principal ARN>'}")
    identifier: str = value["DataLakePrincipalIdentifier"]
    return identifier


def _resource(value: Any) -> GrantResource:
    if not isinstance(value, dict):
        raise _invalid("Resource must be an object with Database or Table")
    other = sorted(set(value) - {"Database", "Table"})
    if other:
        raise _invalid(
            f"Resource {other[0]} is not supported by Lakeworks; grant on Database or Table"
        )
    return aws_input(GrantResource, value, "Resource")


def _permissions(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid(f"{name} must be a list of permission names")
    return value


def _change(params: dict[str, Any]) -> PermissionsChange:
    permissions = _permissions(params.get("Permissions"), "Permissions")
    if not permissions:
        raise _invalid("Permissions must name at least one permission")
    return PermissionsChange(
        principal=_principal(params.get("Principal")),
        resource=_resource(params.get("Resource")),
        permissions=permissions,
        permissions_with_grant_option=_permissions(
            params.get("PermissionsWithGrantOption"), "PermissionsWithGrantOption"
        ),
    )


def _aws_resource(resource: GrantResource) -> dict[str, Any]:
    if resource.database is not None:
        return {
            "Database": {"CatalogId": resource.database.catalog_id, "Name": resource.database.name}
        }
    table = resource.table
    assert table is not None
    out: dict[str, Any] = {"CatalogId": table.catalog_id, "DatabaseName": table.database_name}
    if table.name is not None:
        out["Name"] = table.name
    else:
        out["TableWildcard"] = {}
    return {"Table": out}


def _aws_entry(entry: PrincipalResourcePermissions) -> dict[str, Any]:
    return {
        "Principal": {"DataLakePrincipalIdentifier": entry.principal},
        "Resource": _aws_resource(entry.resource),
        "Permissions": entry.permissions,
        "PermissionsWithGrantOption": entry.permissions_with_grant_option,
        "LastUpdated": entry.last_updated.timestamp(),
        "LastUpdatedBy": entry.last_updated_by,
    }


async def grant_permissions(call: AwsCall) -> Response:
    """GrantPermissions."""
    change = _change(await call.json_body())
    await run_in_threadpool(call.platform.catalog.grants.grant, call.ctx, change)
    return _json({})


async def revoke_permissions(call: AwsCall) -> Response:
    """RevokePermissions."""
    change = _change(await call.json_body())
    await run_in_threadpool(call.platform.catalog.grants.revoke, call.ctx, change)
    return _json({})


async def list_permissions(call: AwsCall) -> Response:
    """ListPermissions, filtered by Principal, ResourceType and Resource."""
    params = await call.json_body()
    principal = _principal(params["Principal"]) if params.get("Principal") is not None else None
    resource = _resource(params["Resource"]) if params.get("Resource") is not None else None
    page = await run_in_threadpool(
        lambda: call.platform.catalog.grants.list(
            call.ctx,
            principal=principal,
            resource_type=aws_str(params, "ResourceType", required=False),
            resource=resource,
            next_token=aws_str(params, "NextToken", required=False),
            max_results=aws_int(params, "MaxResults", 100),
        )
    )
    body: dict[str, Any] = {"PrincipalResourcePermissions": [_aws_entry(e) for e in page.items]}
    if page.next_token:
        body["NextToken"] = page.next_token
    return _json(body)


async def _batch(call: AwsCall, grant: bool) -> Response:
    params = await call.json_body()
    entries = params.get("Entries")
    if not isinstance(entries, list) or not 1 <= len(entries) <= _MAX_BATCH:
        raise _invalid(f"Entries must be a list of 1-{_MAX_BATCH} entries")
    grants = call.platform.catalog.grants
    failures = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Id"), str):
            raise _invalid("Every entry needs an Id")
        try:
            change = _change(entry)
            await run_in_threadpool(grants.grant if grant else grants.revoke, call.ctx, change)
        except LakeworksError as exc:
            failures.append(
                {
                    "RequestEntry": entry,
                    "Error": {"ErrorCode": exc.aws_code, "ErrorMessage": exc.message},
                }
            )
    return _json({"Failures": failures})


async def batch_grant_permissions(call: AwsCall) -> Response:
    """BatchGrantPermissions: each entry granted on its own; failures listed."""
    return await _batch(call, grant=True)


async def batch_revoke_permissions(call: AwsCall) -> Response:
    """BatchRevokePermissions: each entry revoked on its own; failures listed."""
    return await _batch(call, grant=False)


SERVICE = AwsService(
    name="lakeformation",
    protocol="rest-json",
    signing_name="lakeformation",
    actions={
        "GrantPermissions": grant_permissions,
        "RevokePermissions": revoke_permissions,
        "ListPermissions": list_permissions,
        "BatchGrantPermissions": batch_grant_permissions,
        "BatchRevokePermissions": batch_revoke_permissions,
    },
    resolve=_resolve,
)
