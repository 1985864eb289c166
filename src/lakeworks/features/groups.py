"""Feature group definitions: creation checks, the offline layout, the catalog table.

Split from the service so its operations read as the SageMaker actions they are; everything
here is a helper of :class:`~lakeworks.features.service.FeatureStoreService`.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.features.offline import GLUE_TYPES, PARTITION_KEYS
from lakeworks.features.records import FeatureSchema
from lakeworks.schemas.catalog import DatabaseInput, TableColumn, TableInput
from lakeworks.schemas.features import FeatureGroupCreate, FeatureGroupInfo, OfflineStoreStatus

__all__ = [
    "DEFAULT_DATABASE",
    "catalog_database_input",
    "catalog_names",
    "catalog_table_input",
    "check_create",
    "describe",
    "group_name",
    "missing_group",
    "next_token",
    "offline_status",
    "offline_uri",
    "page_offset",
    "table_exists",
]

#: The catalog database AWS creates offline store tables in.
DEFAULT_DATABASE = "sagemaker_featurestore"
_PARQUET = {
    "input_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "output_format": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "serde_info": {
        "serialization_library": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
        "parameters": {"serialization.format": "1"},
    },
}


def missing_group(name: str) -> NotFound:
    """The error for an unknown feature group (``ResourceNotFound`` on both APIs)."""
    return NotFound(f"Resource Not Found: FeatureGroup {name!r} does not exist")


def group_name(name_or_arn: str) -> str:
    """The group name of a name or an ARN (``arn:aws:sagemaker:…:feature-group/<name>``)."""
    if name_or_arn.startswith("arn:"):
        resource = name_or_arn.rpartition(":")[2]
        kind, _, name = resource.partition("/")
        if kind != "feature-group" or not name:
            raise ValidationError(f"{name_or_arn!r} is not the ARN of a feature group")
        return name
    return name_or_arn


def check_create(spec: FeatureGroupCreate) -> FeatureSchema:
    """Check a CreateFeatureGroup request beyond its shape.

    Raises:
        ValidationError: No store enabled, or definitions that do not hang together.
    """
    schema = FeatureSchema(
        types={d.feature_name: d.feature_type for d in spec.feature_definitions},
        record_identifier=spec.record_identifier_feature_name,
        event_time=spec.event_time_feature_name,
    )
    schema.check_definition()
    online = spec.online_store_config is not None and spec.online_store_config.enable_online_store
    if not online and spec.offline_store_config is None:
        raise ValidationError(
            "A feature group needs an online store (OnlineStoreConfig.EnableOnlineStore) or an "
            "offline store (OfflineStoreConfig), or both"
        )
    if spec.online_store_config and spec.online_store_config.ttl_duration and not online:
        raise ValidationError("TtlDuration applies to the online store, which is not enabled")
    offline = spec.offline_store_config
    catalog = offline.data_catalog_config if offline else None
    if catalog is not None and catalog.catalog != "AwsDataCatalog":
        raise ValidationError("DataCatalogConfig.Catalog must be AwsDataCatalog")
    return schema


def offline_uri(settings: Settings, s3_uri: str, name: str, created: datetime) -> str:
    """Where a group's offline files go, as AWS lays them out (its ResolvedOutputS3Uri)."""
    return (
        f"{s3_uri.rstrip('/')}/{settings.aws.account_id}/sagemaker/{settings.aws.region}/"
        f"offline-store/{name}-{int(created.timestamp())}/data"
    )


def catalog_names(spec: FeatureGroupCreate, created: datetime) -> tuple[str, str] | None:
    """``(database, table)`` of the offline store's catalog table, or ``None`` for none."""
    offline = spec.offline_store_config
    if offline is None:
        return None
    if offline.data_catalog_config is not None:
        return offline.data_catalog_config.database, offline.data_catalog_config.table_name
    if offline.disable_glue_table_creation:
        return None
    table = f"{spec.feature_group_name}_{int(created.timestamp())}".lower().replace("-", "_")
    return DEFAULT_DATABASE, table


def catalog_table_input(table: str, schema: FeatureSchema, location: str) -> TableInput:
    """The catalog table over a group's offline files (partitioned by hour of event time)."""
    columns = [TableColumn(name=n.lower(), type=GLUE_TYPES[t]) for n, t in schema.types.items()]
    columns += [
        TableColumn(name="write_time", type="timestamp"),
        TableColumn(name="api_invocation_time", type="timestamp"),
        TableColumn(name="is_deleted", type="boolean"),
    ]
    return TableInput.model_validate(
        {
            "name": table,
            "description": "Offline store of a Lakeworks feature group",
            "table_type": "EXTERNAL_TABLE",
            "parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
            "partition_keys": [{"name": k, "type": "string"} for k in PARTITION_KEYS],
            "storage_descriptor": {"columns": columns, "location": location, **_PARQUET},
        }
    )


def catalog_database_input() -> DatabaseInput:
    """The database AWS creates for offline store tables."""
    return DatabaseInput(name=DEFAULT_DATABASE, description="Feature store offline tables")


def offline_status(spec: dict[str, Any], blocked: str | None) -> OfflineStoreStatus | None:
    """The offline store's status (Blocked while its writes fail)."""
    if "OfflineStoreConfig" not in spec:
        return None
    if blocked:
        return OfflineStoreStatus(status="Blocked", blocked_reason=blocked[:1024])
    return OfflineStoreStatus(status="Active")


def describe(
    record_spec: dict[str, Any],
    *,
    arn: str,
    status: str,
    created: datetime,
    modified: datetime,
    blocked: str | None,
) -> FeatureGroupInfo:
    """DescribeFeatureGroup's answer from a stored request."""
    return FeatureGroupInfo(
        feature_group_arn=arn,
        feature_group_name=record_spec["FeatureGroupName"],
        record_identifier_feature_name=record_spec["RecordIdentifierFeatureName"],
        event_time_feature_name=record_spec["EventTimeFeatureName"],
        feature_definitions=record_spec["FeatureDefinitions"],
        creation_time=created,
        last_modified_time=modified,
        online_store_config=record_spec.get("OnlineStoreConfig"),
        offline_store_config=record_spec.get("OfflineStoreConfig"),
        role_arn=record_spec.get("RoleArn"),
        feature_group_status=status,
        offline_store_status=offline_status(record_spec, blocked),
        description=record_spec.get("Description"),
    )


def page_offset(token: str | None) -> int:
    """The offset a ListFeatureGroups token carries (0 without one).

    Raises:
        ValidationError: A token this service did not make.
    """
    if not token:
        return 0
    try:
        value = int(base64.urlsafe_b64decode(token.encode()).decode())
    except (ValueError, UnicodeError):
        value = -1
    if value < 0:
        raise ValidationError("NextToken is not valid; pass back the previous page's NextToken")
    return value


def next_token(offset: int) -> str:
    """The token of the page starting at ``offset``."""
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def table_exists(database: str, table: str) -> ValidationError:
    """The error for a DataCatalogConfig table that exists already."""
    return ValidationError(
        f"The catalog table {database}.{table} exists already; name another table in "
        "DataCatalogConfig or set DisableGlueTableCreation to use it as is"
    )
