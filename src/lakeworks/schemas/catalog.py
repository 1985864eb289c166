"""Wire shapes of the data catalog, crawlers and SQL queries.

Fields follow AWS Glue's Data Catalog and Athena's API, spelled in snake case
(``storage_descriptor`` is Glue's ``StorageDescriptor``, ``data_scanned_in_bytes`` Athena's
``DataScannedInBytes``), so the AWS front door converts names and nothing else:
:func:`to_aws` renders any of these models in AWS's Pascal case and :func:`from_aws` reads an AWS
request into one. Parameter maps (``parameters``, ``tags``) keep their keys as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "AthenaError",
    "BatchCreatePartitionRequest",
    "BatchCreatePartitionResult",
    "BatchQueryExecutions",
    "ColumnInfo",
    "Crawl",
    "CrawlMessage",
    "Crawler",
    "CrawlerInput",
    "CrawlerMetrics",
    "CrawlerTargets",
    "CrawlerUpdate",
    "Database",
    "DatabaseInput",
    "Datum",
    "ErrorDetail",
    "LastCrawlInfo",
    "Partition",
    "PartitionError",
    "PartitionInput",
    "QueryExecution",
    "QueryExecutionContext",
    "QueryExecutionStatistics",
    "QueryExecutionStatus",
    "QueryResults",
    "QueryStart",
    "QueryStarted",
    "ResultConfiguration",
    "ResultConfigurationUpdates",
    "ResultSet",
    "ResultSetMetadata",
    "Row",
    "S3Target",
    "Schedule",
    "SchemaChangePolicy",
    "SerDeInfo",
    "SqlRequest",
    "StorageDescriptor",
    "Table",
    "TableColumn",
    "TableInput",
    "TableVersion",
    "UnprocessedQueryExecutionId",
    "WorkGroup",
    "WorkGroupConfiguration",
    "WorkGroupConfigurationUpdates",
    "WorkGroupInput",
    "WorkGroupSummary",
    "WorkGroupUpdate",
    "from_aws",
    "to_aws",
]

QueryState = Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED"]
CrawlerState = Literal["READY", "RUNNING", "STOPPING"]
CrawlStatus = Literal["SUCCEEDED", "CANCELLED", "FAILED"]

# -- catalog -------------------------------------------------------------------------------


class TableColumn(RequestModel):
    """A column: name, Hive/Athena type (``bigint``, ``array<string>``…), comment."""

    name: str
    type: str = "string"
    comment: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class SerDeInfo(RequestModel):
    """How rows are (de)serialised: the SerDe class and its parameters (``field.delim``…)."""

    name: str | None = None
    serialization_library: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class StorageDescriptor(RequestModel):
    """Where and how a table's or partition's data is stored."""

    columns: list[TableColumn] = Field(default_factory=list)
    location: str | None = Field(None, description="s3://bucket/prefix/ of the data files")
    input_format: str | None = None
    output_format: str | None = None
    compressed: bool = False
    number_of_buckets: int = -1
    serde_info: SerDeInfo | None = None
    bucket_columns: list[str] = Field(default_factory=list)
    parameters: dict[str, str] = Field(default_factory=dict)
    stored_as_sub_directories: bool = False


class DatabaseInput(RequestModel):
    """Create or update a database."""

    name: str = Field(description="1-255 letters, digits, '_' and '-'; stored lower-cased")
    description: str | None = Field(None, max_length=2048)
    location_uri: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class Database(ResponseModel):
    """A database of the catalog."""

    name: str
    description: str | None = None
    location_uri: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    create_time: datetime
    catalog_id: str


class TableInput(RequestModel):
    """Create a table, or replace its definition (an update keeps the old one as a version)."""

    name: str = Field(description="1-255 letters, digits, '_' and '-'; stored lower-cased")
    description: str | None = Field(None, max_length=2048)
    owner: str | None = None
    retention: int = Field(0, ge=0)
    storage_descriptor: StorageDescriptor | None = None
    partition_keys: list[TableColumn] = Field(default_factory=list)
    view_original_text: str | None = None
    view_expanded_text: str | None = None
    table_type: str | None = Field(None, description="EXTERNAL_TABLE or VIRTUAL_VIEW")
    parameters: dict[str, str] = Field(default_factory=dict)


class Table(ResponseModel):
    """A table (or view) of the catalog."""

    name: str
    database_name: str
    description: str | None = None
    owner: str | None = None
    create_time: datetime
    update_time: datetime
    retention: int = 0
    storage_descriptor: StorageDescriptor | None = None
    partition_keys: list[TableColumn] = Field(default_factory=list)
    view_original_text: str | None = None
    view_expanded_text: str | None = None
    table_type: str | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    created_by: str | None = None
    is_registered_with_lake_formation: bool = False
    catalog_id: str
    version_id: str


class TableVersion(ResponseModel):
    """One version of a table's definition."""

    table: Table
    version_id: str


class PartitionInput(RequestModel):
    """A partition: its values (one per partition key) and where its data lies."""

    values: list[str]
    storage_descriptor: StorageDescriptor | None = None
    parameters: dict[str, str] = Field(default_factory=dict)


class Partition(ResponseModel):
    """A partition of a table."""

    values: list[str]
    database_name: str
    table_name: str
    creation_time: datetime
    storage_descriptor: StorageDescriptor | None = None
    parameters: dict[str, str] = Field(default_factory=dict)
    catalog_id: str


class BatchCreatePartitionRequest(RequestModel):
    """Create up to 100 partitions; each failure is reported, the others are created."""

    partition_input_list: list[PartitionInput] = Field(min_length=1, max_length=100)


class ErrorDetail(ResponseModel):
    """Why one item of a batch failed."""

    error_code: str
    error_message: str


class PartitionError(ResponseModel):
    """A partition that a batch could not create."""

    partition_values: list[str]
    error_detail: ErrorDetail


class BatchCreatePartitionResult(ResponseModel):
    """The partitions that failed (empty when all were created)."""

    errors: list[PartitionError] = Field(default_factory=list)


# -- crawlers ------------------------------------------------------------------------------


class S3Target(RequestModel):
    """An ``s3://bucket/prefix`` to crawl, with glob patterns of keys to leave out."""

    path: str
    exclusions: list[str] = Field(default_factory=list)
    sample_size: int | None = Field(
        None, ge=1, le=249, description="Files crawled per leaf folder (all when omitted)"
    )


class CrawlerTargets(RequestModel):
    """What a crawler scans."""

    s3_targets: list[S3Target] = Field(default_factory=list)


class SchemaChangePolicy(RequestModel):
    """What a crawl does with changed and vanished tables."""

    update_behavior: Literal["LOG", "UPDATE_IN_DATABASE"] = "UPDATE_IN_DATABASE"
    delete_behavior: Literal["LOG", "DELETE_FROM_DATABASE", "DEPRECATE_IN_DATABASE"] = (
        "DEPRECATE_IN_DATABASE"
    )


class CrawlerInput(RequestModel):
    """Create a crawler."""

    name: str
    role: str = Field("lakeworks", description="Kept for Glue compatibility; not used")
    database_name: str
    description: str | None = Field(None, max_length=2048)
    targets: CrawlerTargets
    schedule: str | None = Field(None, description="cron(Minutes Hours Day Month Weekday Year)")
    table_prefix: str | None = Field(None, max_length=128)
    schema_change_policy: SchemaChangePolicy = Field(default_factory=SchemaChangePolicy)
    tags: dict[str, str] = Field(default_factory=dict)


class CrawlerUpdate(RequestModel):
    """Change a crawler: an omitted field keeps its value, an explicit null clears it."""

    role: str | None = None
    database_name: str | None = None
    description: str | None = Field(None, max_length=2048)
    targets: CrawlerTargets | None = None
    schedule: str | None = None
    table_prefix: str | None = Field(None, max_length=128)
    schema_change_policy: SchemaChangePolicy | None = None


class Schedule(ResponseModel):
    """A crawler's schedule."""

    schedule_expression: str
    state: Literal["SCHEDULED", "NOT_SCHEDULED", "TRANSITIONING"]


class LastCrawlInfo(ResponseModel):
    """How the latest crawl ended."""

    status: CrawlStatus
    error_message: str | None = None
    log_group: str | None = None
    log_stream: str | None = None
    message_prefix: str | None = None
    start_time: datetime


class Crawler(ResponseModel):
    """A crawler."""

    name: str
    role: str
    targets: CrawlerTargets
    database_name: str
    description: str | None = None
    schema_change_policy: SchemaChangePolicy
    state: CrawlerState
    table_prefix: str | None = None
    schedule: Schedule | None = None
    crawl_elapsed_time: int = Field(0, description="Milliseconds the running crawl has taken")
    creation_time: datetime
    last_updated: datetime
    last_crawl: LastCrawlInfo | None = None
    version: int


class CrawlerMetrics(ResponseModel):
    """Run-time figures of a crawler (Glue's GetCrawlerMetrics)."""

    crawler_name: str
    time_left_seconds: float = 0.0
    still_estimating: bool = False
    last_runtime_seconds: float = 0.0
    median_runtime_seconds: float = 0.0
    tables_created: int = 0
    tables_updated: int = 0
    tables_deleted: int = 0


class CrawlMessage(ResponseModel):
    """Something a crawl noticed in a file: a ragged row, a mixed-type column, a bad line."""

    severity: Literal["WARNING", "ERROR"]
    path: str
    line: int | None = None
    message: str


class Crawl(ResponseModel):
    """One crawl and its report (Glue's ListCrawls entry, with the tables it touched)."""

    crawl_id: str
    crawler_name: str
    state: Literal["RUNNING", "COMPLETED", "FAILED", "STOPPED"]
    start_time: datetime
    end_time: datetime | None = None
    error_message: str | None = None
    tables_created: list[str] = Field(default_factory=list)
    tables_updated: list[str] = Field(default_factory=list)
    tables_deleted: list[str] = Field(default_factory=list)
    partitions_added: int = 0
    partitions_deleted: int = 0
    messages: list[CrawlMessage] = Field(default_factory=list)


# -- queries -------------------------------------------------------------------------------


class QueryStart(RequestModel):
    """Start a query (Athena's StartQueryExecution)."""

    query: str = Field(min_length=1, max_length=262144)
    database: str | None = None
    workgroup: str | None = None
    output_location: str | None = Field(None, description="s3://bucket/prefix/ for results")
    client_request_token: str | None = Field(None, min_length=32, max_length=128)


class QueryStarted(ResponseModel):
    """The id of a started query."""

    query_execution_id: str


class ResultConfiguration(RequestModel):
    """Where results go."""

    output_location: str | None = None


class ResultConfigurationUpdates(RequestModel):
    """Changes to a workgroup's result configuration."""

    output_location: str | None = None
    remove_output_location: bool = False


class QueryExecutionContext(ResponseModel):
    """The catalog and database a query ran in."""

    database: str | None = None
    catalog: str = "AwsDataCatalog"


class AthenaError(ResponseModel):
    """Why a query failed: category 1 system, 2 user, 3 other."""

    error_category: int
    error_type: int
    retryable: bool = False
    error_message: str


class QueryExecutionStatus(ResponseModel):
    """A query's state and times."""

    state: QueryState
    state_change_reason: str | None = None
    submission_date_time: datetime
    completion_date_time: datetime | None = None
    athena_error: AthenaError | None = None


class QueryExecutionStatistics(ResponseModel):
    """What a query cost."""

    engine_execution_time_in_millis: int = 0
    data_scanned_in_bytes: int = 0
    total_execution_time_in_millis: int = 0
    query_queue_time_in_millis: int = 0
    service_processing_time_in_millis: int = 0


class QueryExecution(ResponseModel):
    """One query execution."""

    query_execution_id: str
    query: str
    statement_type: Literal["DDL", "DML", "UTILITY"]
    substatement_type: str | None = None
    result_configuration: ResultConfiguration
    query_execution_context: QueryExecutionContext
    status: QueryExecutionStatus
    statistics: QueryExecutionStatistics
    work_group: str


class ColumnInfo(ResponseModel):
    """A result column as Athena describes it (``varchar``, ``bigint``, ``double``…)."""

    catalog_name: str = "hive"
    schema_name: str = ""
    table_name: str = ""
    name: str
    label: str
    type: str
    precision: int = 0
    scale: int = 0
    nullable: Literal["NOT_NULL", "NULLABLE", "UNKNOWN"] = "UNKNOWN"
    case_sensitive: bool = False


class Datum(ResponseModel):
    """One value as text; absent for NULL."""

    var_char_value: str | None = None


class Row(ResponseModel):
    """One row of results."""

    data: list[Datum]


class ResultSetMetadata(ResponseModel):
    """The result columns."""

    column_info: list[ColumnInfo]


class ResultSet(ResponseModel):
    """Rows (the first page starts with the header row for SELECTs) and their columns."""

    rows: list[Row]
    result_set_metadata: ResultSetMetadata


class QueryResults(ResponseModel):
    """One page of a query's results."""

    update_count: int = 0
    result_set: ResultSet
    next_token: str | None = None


class UnprocessedQueryExecutionId(ResponseModel):
    """An id a batch lookup could not answer."""

    query_execution_id: str
    error_code: str
    error_message: str


class BatchQueryExecutions(ResponseModel):
    """Answer to a batch lookup of query executions."""

    query_executions: list[QueryExecution] = Field(default_factory=list)
    unprocessed_query_execution_ids: list[UnprocessedQueryExecutionId] = Field(default_factory=list)


class WorkGroupConfiguration(RequestModel):
    """A workgroup's settings."""

    result_configuration: ResultConfiguration | None = None
    enforce_work_group_configuration: bool = True
    publish_cloud_watch_metrics_enabled: bool = False
    bytes_scanned_cutoff_per_query: int | None = Field(None, ge=10_000_000)
    requester_pays_enabled: bool = False


class WorkGroupConfigurationUpdates(RequestModel):
    """Changes to a workgroup's settings; omitted fields keep their values."""

    enforce_work_group_configuration: bool | None = None
    result_configuration_updates: ResultConfigurationUpdates | None = None
    publish_cloud_watch_metrics_enabled: bool | None = None
    bytes_scanned_cutoff_per_query: int | None = Field(None, ge=10_000_000)
    remove_bytes_scanned_cutoff_per_query: bool = False
    requester_pays_enabled: bool | None = None


class WorkGroupInput(RequestModel):
    """Create a workgroup."""

    name: str
    description: str | None = Field(None, max_length=1024)
    configuration: WorkGroupConfiguration = Field(default_factory=WorkGroupConfiguration)
    tags: dict[str, str] = Field(default_factory=dict)


class WorkGroupUpdate(RequestModel):
    """Change a workgroup."""

    description: str | None = Field(None, max_length=1024)
    configuration_updates: WorkGroupConfigurationUpdates | None = None
    state: Literal["ENABLED", "DISABLED"] | None = None


class WorkGroup(ResponseModel):
    """A workgroup: where its results go and how much a query may scan."""

    name: str
    state: Literal["ENABLED", "DISABLED"]
    configuration: WorkGroupConfiguration
    description: str | None = None
    creation_time: datetime


class WorkGroupSummary(ResponseModel):
    """A workgroup in a listing."""

    name: str
    state: Literal["ENABLED", "DISABLED"]
    description: str | None = None
    creation_time: datetime


class SqlRequest(RequestModel):
    """Run a query and get its rows back at once (native only)."""

    query: str = Field(min_length=1, max_length=262144)
    database: str | None = None


# -- AWS names -----------------------------------------------------------------------------

#: Fields whose AWS name is not the Pascal case of the snake case name.
_AWS_NAMES = {"s3_targets": "S3Targets"}
#: Maps whose keys are data, never renamed.
_VERBATIM = frozenset({"parameters", "tags"})


def _aws_name(field: str) -> str:
    return _AWS_NAMES.get(field) or "".join(
        part[:1].upper() + part[1:] for part in field.split("_")
    )


def _aws_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return to_aws(value)
    if isinstance(value, list):
        return [_aws_value(item) for item in value]
    return value


def to_aws(model: BaseModel) -> dict[str, Any]:
    """Render ``model`` with AWS's field names, leaving out unset optional values.

    Example: ``Table(...)`` becomes ``{"Name": ..., "StorageDescriptor": {"Columns": ...}}``.
    """
    out: dict[str, Any] = {}
    for field in type(model).model_fields:
        value = getattr(model, field)
        if value is None:
            continue
        out[_aws_name(field)] = value if field in _VERBATIM else _aws_value(value)
    return out


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``X | None`` or ``list[X]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def from_aws(
    model: type[BaseModel], data: dict[str, Any], *, drop_unknown: bool = False
) -> dict[str, Any]:
    """Rename the AWS fields of ``data`` to the snake case fields of ``model``.

    Args:
        drop_unknown: Leave out fields ``model`` does not have (AWS fields Lakeworks does not
            use, such as a table's ``SkewedInfo``), at every level. Otherwise unknown fields
            keep their AWS names, so validating with a strict request model names them.
    """
    by_aws = {_aws_name(name): name for name in model.model_fields}
    out: dict[str, Any] = {}
    for key, value in data.items():
        if drop_unknown and key not in by_aws:
            continue
        name = by_aws.get(key, key)
        field = model.model_fields.get(name)
        annotation = field.annotation if field is not None else None
        inner = _model_of(annotation) if annotation is not None else None
        if inner is not None and name not in _VERBATIM:
            if isinstance(value, dict):
                value = from_aws(inner, value, drop_unknown=drop_unknown)
            elif isinstance(value, list) and get_origin(annotation) is not dict:
                value = [
                    from_aws(inner, v, drop_unknown=drop_unknown) if isinstance(v, dict) else v
                    for v in value
                ]
        out[name] = value
    return out
