"""AWS Glue (JSON 1.1, ``AWSGlue``): the Data Catalog and crawlers, as a table of thin mappings.

Every action renames Glue's fields to the native schema's (:func:`~lakeworks.schemas.catalog.
from_aws`), calls :class:`~lakeworks.lake.catalog.service.CatalogService` or its crawlers, and
renders the answer with Glue's names (:func:`~lakeworks.schemas.catalog.to_aws`). Input fields
Lakeworks does not use (``SkewedInfo``, ``RecrawlPolicy``, ``CatalogId`` …) are accepted and
ignored, so a table read with GetTable can be sent back to UpdateTable as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from starlette.concurrency import run_in_threadpool

from lakeworks.core.errors import AlreadyExists, ValidationError
from lakeworks.schemas.catalog import (
    Crawl,
    CrawlerInput,
    CrawlerUpdate,
    DatabaseInput,
    PartitionInput,
    TableInput,
    from_aws,
    to_aws,
)
from lakeworks.server.aws import glue_jobs, glue_triggers
from lakeworks.server.aws.service import AwsCall, AwsService

__all__ = ["SERVICE", "aws_input", "aws_int", "aws_str"]

M = TypeVar("M", bound=BaseModel)


def aws_str(params: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    """A string parameter.

    Raises:
        ValidationError: Missing (when required) or not a string (``InvalidInputException``).
    """
    value = params.get(name)
    if value is None:
        if required:
            raise ValidationError(f"{name} is required", aws_code="InvalidInputException")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string", aws_code="InvalidInputException")
    return value


def _need(params: dict[str, Any], name: str) -> str:
    value = aws_str(params, name)
    assert value is not None
    return value


def aws_int(params: dict[str, Any], name: str, default: int) -> int:
    """An integer parameter, ``default`` when absent."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer", aws_code="InvalidInputException")
    return value


def aws_input(model: type[M], value: Any, name: str, code: str = "InvalidInputException") -> M:
    """Validate an AWS structure as the native model ``model`` (unknown fields dropped).

    Raises:
        ValidationError: Not an object, or a field is wrong; the message names the field.
    """
    if not isinstance(value, dict):
        raise ValidationError(f"{name} must be an object", aws_code=code)
    try:
        return model.model_validate(from_aws(model, value, drop_unknown=True))
    except PydanticValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem.get("loc", ()))
        raise ValidationError(
            f"Invalid {name}: {where}: {problem.get('msg')}", aws_code=code
        ) from None


def _values(params: dict[str, Any], name: str) -> list[str]:
    value = params.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(f"{name} must be a list of strings", aws_code="InvalidInputException")
    return value


async def _run(fn: Callable[[], Any]) -> Any:
    return await run_in_threadpool(fn)


# -- databases -----------------------------------------------------------------------------


async def create_database(call: AwsCall) -> dict[str, Any]:
    """CreateDatabase."""
    spec = aws_input(DatabaseInput, call.params.get("DatabaseInput"), "DatabaseInput")
    await _run(lambda: call.platform.catalog.create_database(call.ctx, spec))
    return {}


async def get_database(call: AwsCall) -> dict[str, Any]:
    """GetDatabase."""
    name = _need(call.params, "Name")
    found = await _run(lambda: call.platform.catalog.get_database(call.ctx, name))
    return {"Database": to_aws(found)}


async def get_databases(call: AwsCall) -> dict[str, Any]:
    """GetDatabases."""
    token = aws_str(call.params, "NextToken", required=False)
    limit = aws_int(call.params, "MaxResults", 100)
    page = await _run(
        lambda: call.platform.catalog.list_databases(call.ctx, next_token=token, max_results=limit)
    )
    return _page("DatabaseList", [to_aws(d) for d in page.items], page.next_token)


async def update_database(call: AwsCall) -> dict[str, Any]:
    """UpdateDatabase."""
    name = _need(call.params, "Name")
    spec = aws_input(DatabaseInput, call.params.get("DatabaseInput"), "DatabaseInput")
    await _run(lambda: call.platform.catalog.update_database(call.ctx, name, spec))
    return {}


async def delete_database(call: AwsCall) -> dict[str, Any]:
    """DeleteDatabase."""
    name = _need(call.params, "Name")
    await _run(lambda: call.platform.catalog.delete_database(call.ctx, name))
    return {}


def _page(key: str, items: list[Any], token: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {key: items}
    if token:
        out["NextToken"] = token
    return out


# -- tables --------------------------------------------------------------------------------


async def create_table(call: AwsCall) -> dict[str, Any]:
    """CreateTable."""
    database = _need(call.params, "DatabaseName")
    spec = aws_input(TableInput, call.params.get("TableInput"), "TableInput")
    await _run(lambda: call.platform.catalog.create_table(call.ctx, database, spec))
    return {}


async def get_table(call: AwsCall) -> dict[str, Any]:
    """GetTable."""
    database, name = _need(call.params, "DatabaseName"), _need(call.params, "Name")
    found = await _run(lambda: call.platform.catalog.get_table(call.ctx, database, name))
    return {"Table": to_aws(found)}


async def get_tables(call: AwsCall) -> dict[str, Any]:
    """GetTables."""
    params = call.params
    database = _need(params, "DatabaseName")
    page = await _run(
        lambda: call.platform.catalog.list_tables(
            call.ctx,
            database,
            expression=aws_str(params, "Expression", required=False),
            next_token=aws_str(params, "NextToken", required=False),
            max_results=aws_int(params, "MaxResults", 100),
        )
    )
    return _page("TableList", [to_aws(t) for t in page.items], page.next_token)


async def update_table(call: AwsCall) -> dict[str, Any]:
    """UpdateTable (the previous definition stays a version unless SkipArchive)."""
    database = _need(call.params, "DatabaseName")
    spec = aws_input(TableInput, call.params.get("TableInput"), "TableInput")
    skip = bool(call.params.get("SkipArchive", False))
    await _run(
        lambda: call.platform.catalog.update_table(call.ctx, database, spec, skip_archive=skip)
    )
    return {}


async def delete_table(call: AwsCall) -> dict[str, Any]:
    """DeleteTable."""
    database, name = _need(call.params, "DatabaseName"), _need(call.params, "Name")
    await _run(lambda: call.platform.catalog.delete_table(call.ctx, database, name))
    return {}


async def get_table_versions(call: AwsCall) -> dict[str, Any]:
    """GetTableVersions."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    page = await _run(
        lambda: call.platform.catalog.get_table_versions(
            call.ctx,
            database,
            table,
            next_token=aws_str(params, "NextToken", required=False),
            max_results=aws_int(params, "MaxResults", 100),
        )
    )
    return _page("TableVersions", [to_aws(v) for v in page.items], page.next_token)


async def get_table_version(call: AwsCall) -> dict[str, Any]:
    """GetTableVersion (the current one without VersionId)."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    version = aws_str(params, "VersionId", required=False)
    found = await _run(
        lambda: call.platform.catalog.get_table_version(call.ctx, database, table, version)
    )
    return {"TableVersion": to_aws(found)}


# -- partitions ----------------------------------------------------------------------------


async def batch_create_partition(call: AwsCall) -> dict[str, Any]:
    """BatchCreatePartition."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    raw = params.get("PartitionInputList")
    if not isinstance(raw, list):
        raise ValidationError("PartitionInputList must be a list", aws_code="InvalidInputException")
    inputs = [aws_input(PartitionInput, p, "PartitionInput") for p in raw]
    result = await _run(
        lambda: call.platform.catalog.batch_create_partition(call.ctx, database, table, inputs)
    )
    return {"Errors": [to_aws(e) for e in result.errors]}


async def create_partition(call: AwsCall) -> dict[str, Any]:
    """CreatePartition."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    spec = aws_input(PartitionInput, params.get("PartitionInput"), "PartitionInput")
    result = await _run(
        lambda: call.platform.catalog.batch_create_partition(call.ctx, database, table, [spec])
    )
    if result.errors:
        detail = result.errors[0].error_detail
        if detail.error_code == "AlreadyExistsException":
            raise AlreadyExists(detail.error_message, aws_code=detail.error_code)
        raise ValidationError(detail.error_message, aws_code=detail.error_code)
    return {}


async def get_partition(call: AwsCall) -> dict[str, Any]:
    """GetPartition."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    values = _values(params, "PartitionValues")
    found = await _run(
        lambda: call.platform.catalog.get_partition(call.ctx, database, table, values)
    )
    return {"Partition": to_aws(found)}


async def get_partitions(call: AwsCall) -> dict[str, Any]:
    """GetPartitions (with Glue's filter Expression)."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    page = await _run(
        lambda: call.platform.catalog.get_partitions(
            call.ctx,
            database,
            table,
            expression=aws_str(params, "Expression", required=False),
            next_token=aws_str(params, "NextToken", required=False),
            max_results=aws_int(params, "MaxResults", 1000),
        )
    )
    return _page("Partitions", [to_aws(p) for p in page.items], page.next_token)


async def delete_partition(call: AwsCall) -> dict[str, Any]:
    """DeletePartition."""
    params = call.params
    database, table = _need(params, "DatabaseName"), _need(params, "TableName")
    values = _values(params, "PartitionValues")
    await _run(lambda: call.platform.catalog.delete_partition(call.ctx, database, table, values))
    return {}


# -- crawlers ------------------------------------------------------------------------------


async def create_crawler(call: AwsCall) -> dict[str, Any]:
    """CreateCrawler."""
    spec = aws_input(CrawlerInput, call.params, "CreateCrawler request")
    await _run(lambda: call.platform.catalog.crawlers.create_crawler(call.ctx, spec))
    return {}


async def get_crawler(call: AwsCall) -> dict[str, Any]:
    """GetCrawler."""
    name = _need(call.params, "Name")
    found = await _run(lambda: call.platform.catalog.crawlers.get_crawler(call.ctx, name))
    return {"Crawler": to_aws(found)}


async def get_crawlers(call: AwsCall) -> dict[str, Any]:
    """GetCrawlers."""
    token = aws_str(call.params, "NextToken", required=False)
    limit = aws_int(call.params, "MaxResults", 100)
    page = await _run(
        lambda: call.platform.catalog.crawlers.list_crawlers(
            call.ctx, next_token=token, max_results=limit
        )
    )
    return _page("Crawlers", [to_aws(c) for c in page.items], page.next_token)


async def list_crawlers(call: AwsCall) -> dict[str, Any]:
    """ListCrawlers: the names only."""
    answer = await get_crawlers(call)
    return _page("CrawlerNames", [c["Name"] for c in answer["Crawlers"]], answer.get("NextToken"))


async def update_crawler(call: AwsCall) -> dict[str, Any]:
    """UpdateCrawler."""
    name = _need(call.params, "Name")
    fields = {k: v for k, v in call.params.items() if k != "Name"}
    update = aws_input(CrawlerUpdate, fields, "UpdateCrawler request")
    await _run(lambda: call.platform.catalog.crawlers.update_crawler(call.ctx, name, update))
    return {}


async def update_crawler_schedule(call: AwsCall) -> dict[str, Any]:
    """UpdateCrawlerSchedule."""
    name = _need(call.params, "CrawlerName")
    update = CrawlerUpdate(schedule=aws_str(call.params, "Schedule", required=False))
    await _run(lambda: call.platform.catalog.crawlers.update_crawler(call.ctx, name, update))
    return {}


async def delete_crawler(call: AwsCall) -> dict[str, Any]:
    """DeleteCrawler."""
    name = _need(call.params, "Name")
    await _run(lambda: call.platform.catalog.crawlers.delete_crawler(call.ctx, name))
    return {}


async def start_crawler(call: AwsCall) -> dict[str, Any]:
    """StartCrawler."""
    name = _need(call.params, "Name")
    await _run(lambda: call.platform.catalog.crawlers.start_crawler(call.ctx, name))
    return {}


async def stop_crawler(call: AwsCall) -> dict[str, Any]:
    """StopCrawler."""
    name = _need(call.params, "Name")
    await _run(lambda: call.platform.catalog.crawlers.stop_crawler(call.ctx, name))
    return {}


async def start_crawler_schedule(call: AwsCall) -> dict[str, Any]:
    """StartCrawlerSchedule."""
    name = _need(call.params, "CrawlerName")
    await _run(lambda: call.platform.catalog.crawlers.set_schedule_state(call.ctx, name, True))
    return {}


async def stop_crawler_schedule(call: AwsCall) -> dict[str, Any]:
    """StopCrawlerSchedule."""
    name = _need(call.params, "CrawlerName")
    await _run(lambda: call.platform.catalog.crawlers.set_schedule_state(call.ctx, name, False))
    return {}


async def get_crawler_metrics(call: AwsCall) -> dict[str, Any]:
    """GetCrawlerMetrics."""
    names = call.params.get("CrawlerNameList")
    if names is not None:
        names = _values(call.params, "CrawlerNameList")
    metrics = await _run(
        lambda: call.platform.catalog.crawlers.get_crawler_metrics(call.ctx, names)
    )
    return {"CrawlerMetricsList": [to_aws(m) for m in metrics]}


def _crawl(crawl: Crawl) -> dict[str, Any]:
    summary = {
        "TABLE": {
            "ADD": {"Count": len(crawl.tables_created)},
            "UPDATE": {"Count": len(crawl.tables_updated)},
            "DELETE": {"Count": len(crawl.tables_deleted)},
        },
        "PARTITION": {
            "ADD": {"Count": crawl.partitions_added},
            "DELETE": {"Count": crawl.partitions_deleted},
        },
    }
    out: dict[str, Any] = {
        "CrawlId": crawl.crawl_id,
        "State": crawl.state,
        "StartTime": crawl.start_time,
        "Summary": json.dumps(summary),
        "LogGroup": "/aws-glue/crawlers",
        "LogStream": crawl.crawler_name,
        "MessagePrefix": crawl.crawl_id,
    }
    if crawl.end_time is not None:
        out["EndTime"] = crawl.end_time
    if crawl.error_message:
        out["ErrorMessage"] = crawl.error_message
    return out


async def list_crawls(call: AwsCall) -> dict[str, Any]:
    """ListCrawls: the latest crawls, newest first."""
    name = _need(call.params, "CrawlerName")
    limit = aws_int(call.params, "MaxResults", 20)
    crawls = await _run(
        lambda: call.platform.catalog.crawlers.list_crawls(call.ctx, name, max_results=limit)
    )
    return {"Crawls": [_crawl(c) for c in crawls]}


SERVICE = AwsService(
    name="glue",
    protocol="json",
    signing_name="glue",
    target_prefix="AWSGlue",
    json_version="1.1",
    actions={
        "CreateDatabase": create_database,
        "GetDatabase": get_database,
        "GetDatabases": get_databases,
        "UpdateDatabase": update_database,
        "DeleteDatabase": delete_database,
        "CreateTable": create_table,
        "GetTable": get_table,
        "GetTables": get_tables,
        "UpdateTable": update_table,
        "DeleteTable": delete_table,
        "GetTableVersions": get_table_versions,
        "GetTableVersion": get_table_version,
        "BatchCreatePartition": batch_create_partition,
        "CreatePartition": create_partition,
        "GetPartition": get_partition,
        "GetPartitions": get_partitions,
        "DeletePartition": delete_partition,
        "CreateCrawler": create_crawler,
        "GetCrawler": get_crawler,
        "GetCrawlers": get_crawlers,
        "ListCrawlers": list_crawlers,
        "UpdateCrawler": update_crawler,
        "UpdateCrawlerSchedule": update_crawler_schedule,
        "DeleteCrawler": delete_crawler,
        "StartCrawler": start_crawler,
        "StopCrawler": stop_crawler,
        "StartCrawlerSchedule": start_crawler_schedule,
        "StopCrawlerSchedule": stop_crawler_schedule,
        "GetCrawlerMetrics": get_crawler_metrics,
        "ListCrawls": list_crawls,
        **glue_jobs.ACTIONS,
        **glue_triggers.ACTIONS,
    },
)
