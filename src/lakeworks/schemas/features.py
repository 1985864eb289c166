"""Feature store (SageMaker Feature Store): the wire contract.

Feature groups carry SageMaker's names as aliases (``FeatureGroupName``), so the AWS front door
is ``model_validate(body)`` and ``model_dump(by_alias=True)``; the native API takes the same
fields snake_cased. Records travel as SageMaker's ``FeatureValue`` lists: every value a string,
typed by the group's feature definitions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel
from lakeworks.schemas.training import S3_URI, AwsRequestModel, AwsResponseModel, Tag

__all__ = [
    "FEATURE_GROUP_NAME",
    "DataCatalogConfig",
    "DatasetBuild",
    "DatasetInfo",
    "FeatureAddition",
    "FeatureDefinition",
    "FeatureGroupCreate",
    "FeatureGroupInfo",
    "FeatureGroupStatus",
    "FeatureGroupSummary",
    "FeatureType",
    "FeatureValue",
    "OfflineStoreConfig",
    "OfflineStoreStatus",
    "OnlineStoreConfig",
    "S3StorageConfig",
    "TtlDuration",
    "TtlUnit",
]

#: SageMaker's pattern for feature group and feature names.
FEATURE_GROUP_NAME = r"^[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}$"
FeatureType = Literal["Integral", "Fractional", "String"]
FeatureGroupStatus = Literal["Creating", "Created", "CreateFailed", "Deleting", "DeleteFailed"]
TtlUnit = Literal["Seconds", "Minutes", "Hours", "Days", "Weeks"]


class FeatureDefinition(AwsRequestModel):
    """One feature: its name and type (collections are not supported)."""

    feature_name: str = Field(pattern=FEATURE_GROUP_NAME, max_length=64)
    feature_type: FeatureType


class TtlDuration(AwsRequestModel):
    """How long an online record lives after its event time."""

    unit: TtlUnit
    value: int = Field(ge=1)


class OnlineStoreConfig(AwsRequestModel):
    """The online store: on or off, and a default time to live for its records."""

    enable_online_store: bool = False
    ttl_duration: TtlDuration | None = None
    storage_type: Literal["Standard"] = "Standard"


class S3StorageConfig(AwsRequestModel):
    """Where the offline store's Parquet files go; ``resolved_output_s3_uri`` is set by us."""

    s3_uri: str = Field(pattern=S3_URI, max_length=1024)
    kms_key_id: str | None = None
    resolved_output_s3_uri: str | None = None


class DataCatalogConfig(AwsRequestModel):
    """The catalog table the offline store is registered as."""

    table_name: str = Field(min_length=1, max_length=255)
    catalog: str = "AwsDataCatalog"
    database: str = Field(min_length=1, max_length=255)


class OfflineStoreConfig(AwsRequestModel):
    """The offline store: Parquet in the lake, registered in the catalog."""

    s3_storage_config: S3StorageConfig
    disable_glue_table_creation: bool = False
    data_catalog_config: DataCatalogConfig | None = None
    table_format: Literal["Default", "Glue"] = "Glue"


class FeatureGroupCreate(AwsRequestModel):
    """CreateFeatureGroup."""

    feature_group_name: str = Field(pattern=FEATURE_GROUP_NAME, max_length=64)
    record_identifier_feature_name: str = Field(pattern=FEATURE_GROUP_NAME, max_length=64)
    event_time_feature_name: str = Field(pattern=FEATURE_GROUP_NAME, max_length=64)
    feature_definitions: list[FeatureDefinition] = Field(min_length=1, max_length=2500)
    online_store_config: OnlineStoreConfig | None = None
    offline_store_config: OfflineStoreConfig | None = None
    throughput_config: dict[str, Any] | None = None
    role_arn: str | None = Field(None, max_length=2048)
    description: str | None = Field(None, max_length=128)
    tags: list[Tag] = Field(default_factory=list, max_length=50)


class FeatureAddition(AwsRequestModel):
    """UpdateFeatureGroup: features to add (existing ones cannot change)."""

    feature_additions: list[FeatureDefinition] = Field(default_factory=list, max_length=100)
    online_store_config: dict[str, Any] | None = None
    throughput_config: dict[str, Any] | None = None


class OfflineStoreStatus(AwsResponseModel):
    """Whether the offline store takes writes."""

    status: Literal["Active", "Blocked", "Disabled"]
    blocked_reason: str | None = None


class FeatureGroupInfo(AwsResponseModel):
    """DescribeFeatureGroup."""

    feature_group_arn: str
    feature_group_name: str
    record_identifier_feature_name: str
    event_time_feature_name: str
    feature_definitions: list[dict[str, Any]]
    creation_time: datetime
    last_modified_time: datetime | None = None
    online_store_config: dict[str, Any] | None = None
    offline_store_config: dict[str, Any] | None = None
    role_arn: str | None = None
    feature_group_status: FeatureGroupStatus
    offline_store_status: OfflineStoreStatus | None = None
    description: str | None = None
    next_token: str = ""


class FeatureGroupSummary(AwsResponseModel):
    """One entry of ListFeatureGroups."""

    feature_group_name: str
    feature_group_arn: str
    creation_time: datetime
    feature_group_status: FeatureGroupStatus
    offline_store_status: OfflineStoreStatus | None = None


class FeatureValue(AwsRequestModel):
    """One value of a record, as a string whatever the feature's type."""

    feature_name: str = Field(min_length=1, max_length=64)
    value_as_string: str | None = Field(None, max_length=358400)
    value_as_string_list: list[str] | None = None


class DatasetBuild(RequestModel):
    """Build a training set: each label row joined to features as of its event time.

    Give the labels inline (``labels``: a list of rows) or as a Parquet/CSV object or prefix in
    the lake (``labels_uri``). Each label row needs ``record_identifier`` (the column holding
    the record id) and ``event_time`` (its time: ISO 8601 or epoch seconds).
    """

    feature_groups: list[str] = Field(min_length=1, max_length=20)
    labels: list[dict[str, Any]] | None = None
    labels_uri: str | None = Field(None, pattern=S3_URI, max_length=1024)
    record_identifier: str = Field(min_length=1, max_length=255)
    event_time: str = Field(min_length=1, max_length=255)
    features: list[str] | None = Field(
        None, description="Feature names to keep (all of each group when omitted)"
    )
    include_deleted: bool = False
    output_uri: str | None = Field(
        None, pattern=S3_URI, max_length=1024, description="Also write the result as Parquet here"
    )


class DatasetInfo(ResponseModel):
    """A built training set: its rows (columns in order) and where it was written."""

    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    output_uri: str | None = None
