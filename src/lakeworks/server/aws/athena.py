"""Amazon Athena (JSON 1.1, ``AmazonAthena``): queries, results, workgroups, catalog metadata.

Thin mappings onto :class:`~lakeworks.lake.catalog.queries.QueryService` and the workgroups;
shapes use Athena's names through :func:`~lakeworks.schemas.catalog.to_aws`. The one data
catalog is ``AwsDataCatalog`` (the Glue catalog of :mod:`lakeworks.server.aws.glue`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.schemas.catalog import (
    Table,
    WorkGroupConfiguration,
    WorkGroupInput,
    WorkGroupUpdate,
    to_aws,
)
from lakeworks.server.aws.glue import aws_input, aws_int, aws_str
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE"]

CATALOG = "AwsDataCatalog"
_CODE = "InvalidRequestException"


async def _run(fn: Callable[[], Any]) -> Any:
    return await run_in_threadpool(fn)


def _need(params: dict[str, Any], name: str) -> str:
    try:
        value = aws_str(params, name)
    except ValidationError as exc:
        raise ValidationError(exc.message, aws_code=_CODE) from None
    assert value is not None
    return value


def _optional(params: dict[str, Any], name: str) -> str | None:
    try:
        return aws_str(params, name, required=False)
    except ValidationError as exc:
        raise ValidationError(exc.message, aws_code=_CODE) from None


def _struct(params: dict[str, Any], name: str) -> dict[str, Any]:
    value = params.get(name) or {}
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be an object", aws_code=_CODE)
    return value


def _check_catalog(params: dict[str, Any]) -> None:
    catalog = _optional(params, "CatalogName") or CATALOG
    if catalog.lower() != CATALOG.lower():
        raise NotFound(
            f"Catalog {catalog} was not found; use {CATALOG}", aws_code="MetadataException"
        )


# -- queries -------------------------------------------------------------------------------


async def start_query_execution(call: AwsCall) -> dict[str, Any]:
    """StartQueryExecution."""
    params = call.params
    query = _need(params, "QueryString")
    context = _struct(params, "QueryExecutionContext")
    result = _struct(params, "ResultConfiguration")
    database = context.get("Database")
    location = result.get("OutputLocation")
    query_id = await _run(
        lambda: call.platform.catalog.queries.start_query_execution(
            call.ctx,
            query,
            database if isinstance(database, str) else None,
            _optional(params, "WorkGroup"),
            location if isinstance(location, str) else None,
            client_request_token=_optional(params, "ClientRequestToken"),
        )
    )
    return {"QueryExecutionId": query_id}


async def get_query_execution(call: AwsCall) -> dict[str, Any]:
    """GetQueryExecution."""
    query_id = _need(call.params, "QueryExecutionId")
    found = await _run(
        lambda: call.platform.catalog.queries.get_query_execution(call.ctx, query_id)
    )
    return {"QueryExecution": to_aws(found)}


async def batch_get_query_execution(call: AwsCall) -> dict[str, Any]:
    """BatchGetQueryExecution."""
    ids = call.params.get("QueryExecutionIds")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValidationError("QueryExecutionIds must be a list of strings", aws_code=_CODE)
    found = await _run(
        lambda: call.platform.catalog.queries.batch_get_query_execution(call.ctx, ids)
    )
    return to_aws(found)


async def get_query_results(call: AwsCall) -> dict[str, Any]:
    """GetQueryResults: the first page of a SELECT starts with the header row."""
    params = call.params
    query_id = _need(params, "QueryExecutionId")
    page = await _run(
        lambda: call.platform.catalog.queries.get_query_results(
            call.ctx,
            query_id,
            next_token=_optional(params, "NextToken"),
            max_results=aws_int(params, "MaxResults", 1000),
        )
    )
    return to_aws(page)


async def list_query_executions(call: AwsCall) -> dict[str, Any]:
    """ListQueryExecutions: ids, newest first."""
    params = call.params
    page = await _run(
        lambda: call.platform.catalog.queries.list_query_executions(
            call.ctx,
            workgroup=_optional(params, "WorkGroup"),
            next_token=_optional(params, "NextToken"),
            max_results=aws_int(params, "MaxResults", 50),
        )
    )
    out: dict[str, Any] = {"QueryExecutionIds": [q.query_execution_id for q in page.items]}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


async def stop_query_execution(call: AwsCall) -> dict[str, Any]:
    """StopQueryExecution."""
    query_id = _need(call.params, "QueryExecutionId")
    await _run(lambda: call.platform.catalog.queries.stop_query_execution(call.ctx, query_id))
    return {}


# -- workgroups ----------------------------------------------------------------------------


def _tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and isinstance(t.get("Key"), str) for t in value
    ):
        raise ValidationError("Tags must be a list of {Key, Value}", aws_code=_CODE)
    return {t["Key"]: str(t.get("Value", "")) for t in value}


async def create_work_group(call: AwsCall) -> dict[str, Any]:
    """CreateWorkGroup."""
    params = call.params
    configuration = aws_input(
        WorkGroupConfiguration, _struct(params, "Configuration"), "Configuration", _CODE
    )
    spec = WorkGroupInput(
        name=_need(params, "Name"),
        description=_optional(params, "Description"),
        configuration=configuration,
        tags=_tags(params.get("Tags")),
    )
    await _run(lambda: call.platform.catalog.workgroups.create_work_group(call.ctx, spec))
    return {}


async def get_work_group(call: AwsCall) -> dict[str, Any]:
    """GetWorkGroup."""
    name = _need(call.params, "WorkGroup")
    found = await _run(lambda: call.platform.catalog.workgroups.get_work_group(call.ctx, name))
    return {"WorkGroup": to_aws(found)}


async def list_work_groups(call: AwsCall) -> dict[str, Any]:
    """ListWorkGroups."""
    found = await _run(lambda: call.platform.catalog.workgroups.list_work_groups(call.ctx))
    return {"WorkGroups": [to_aws(w) for w in found]}


async def update_work_group(call: AwsCall) -> dict[str, Any]:
    """UpdateWorkGroup."""
    name = _need(call.params, "WorkGroup")
    fields = {k: v for k, v in call.params.items() if k != "WorkGroup"}
    update = aws_input(WorkGroupUpdate, fields, "UpdateWorkGroup request", _CODE)
    await _run(lambda: call.platform.catalog.workgroups.update_work_group(call.ctx, name, update))
    return {}


async def delete_work_group(call: AwsCall) -> dict[str, Any]:
    """DeleteWorkGroup."""
    name = _need(call.params, "WorkGroup")
    await _run(lambda: call.platform.catalog.workgroups.delete_work_group(call.ctx, name))
    return {}


# -- catalog metadata ----------------------------------------------------------------------


async def list_data_catalogs(call: AwsCall) -> dict[str, Any]:
    """ListDataCatalogs: the one Glue catalog."""
    return {"DataCatalogsSummary": [{"CatalogName": CATALOG, "Type": "GLUE"}]}


async def list_databases(call: AwsCall) -> dict[str, Any]:
    """ListDatabases of AwsDataCatalog."""
    _check_catalog(call.params)
    token = _optional(call.params, "NextToken")
    limit = aws_int(call.params, "MaxResults", 50)
    page = await _run(
        lambda: call.platform.catalog.list_databases(call.ctx, next_token=token, max_results=limit)
    )
    databases = [
        {"Name": d.name, "Description": d.description or "", "Parameters": d.parameters}
        for d in page.items
    ]
    out: dict[str, Any] = {"DatabaseList": databases}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def _table_metadata(table: Table) -> dict[str, Any]:
    columns = table.storage_descriptor.columns if table.storage_descriptor else []
    return {
        "Name": table.name,
        "CreateTime": table.create_time,
        "LastAccessTime": table.update_time,
        "TableType": table.table_type or "EXTERNAL_TABLE",
        "Columns": [to_aws(c) for c in columns],
        "PartitionKeys": [to_aws(k) for k in table.partition_keys],
        "Parameters": table.parameters,
    }


async def list_table_metadata(call: AwsCall) -> dict[str, Any]:
    """ListTableMetadata."""
    _check_catalog(call.params)
    database = _need(call.params, "DatabaseName")
    page = await _run(
        lambda: call.platform.catalog.list_tables(
            call.ctx,
            database,
            expression=_optional(call.params, "Expression"),
            next_token=_optional(call.params, "NextToken"),
            max_results=aws_int(call.params, "MaxResults", 50),
        )
    )
    out: dict[str, Any] = {"TableMetadataList": [_table_metadata(t) for t in page.items]}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


async def get_table_metadata(call: AwsCall) -> dict[str, Any]:
    """GetTableMetadata."""
    _check_catalog(call.params)
    database, name = _need(call.params, "DatabaseName"), _need(call.params, "TableName")
    table = await _run(lambda: call.platform.catalog.get_table(call.ctx, database, name))
    return {"TableMetadata": _table_metadata(table)}


SERVICE = AwsService(
    name="athena",
    protocol="json",
    signing_name="athena",
    target_prefix="AmazonAthena",
    json_version="1.1",
    actions={
        "StartQueryExecution": start_query_execution,
        "GetQueryExecution": get_query_execution,
        "BatchGetQueryExecution": batch_get_query_execution,
        "GetQueryResults": get_query_results,
        "ListQueryExecutions": list_query_executions,
        "StopQueryExecution": stop_query_execution,
        "CreateWorkGroup": create_work_group,
        "GetWorkGroup": get_work_group,
        "ListWorkGroups": list_work_groups,
        "UpdateWorkGroup": update_work_group,
        "DeleteWorkGroup": delete_work_group,
        "ListDataCatalogs": list_data_catalogs,
        "ListDatabases": list_databases,
        "ListTableMetadata": list_table_metadata,
        "GetTableMetadata": get_table_metadata,
    },
)
