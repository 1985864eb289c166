"""The feature store (SageMaker Feature Store); the AWS front door and the native API call this.

Feature groups are created, described, listed, updated (features added) and deleted as
SageMaker's control plane does it. Records go to the online store (a table of the metadata
database: the latest record per identifier by event time, with a time to live) and to the
offline store (Parquet in the lake, see :mod:`.offline`). :meth:`build_dataset` joins labels to
features as of each label's event time (:mod:`.training_sets`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import AlreadyExists, NotFound, ValidationError
from lakeworks.core.names import arn
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.features import groups, store
from lakeworks.features.datasets import DatasetBuilder
from lakeworks.features.offline import OfflineStore, OfflineTarget
from lakeworks.features.record_ops import RecordOps
from lakeworks.features.records import FeatureSchema, ttl_seconds
from lakeworks.features.store import FeatureGroupRecord
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.common import Page
from lakeworks.schemas.features import (
    DatasetBuild,
    DatasetInfo,
    FeatureDefinition,
    FeatureGroupCreate,
    FeatureGroupInfo,
    FeatureGroupSummary,
)

__all__ = ["FeatureGroup", "FeatureStoreService"]


@dataclass(frozen=True)
class FeatureGroup:
    """A feature group as record operations need it."""

    name: str
    arn: str
    spec: dict[str, Any]
    schema: FeatureSchema
    online: bool
    ttl: float | None
    offline: OfflineTarget | None


class FeatureStoreService(RecordOps):
    """Feature groups, their online and offline stores, and training sets.

    Args:
        settings: The settings tree (account, region, flush interval).
        db: The metadata database (groups and the online store).
        lake: Where the offline store's files go.
        catalog: Where the offline store's tables are registered.
    """

    def __init__(
        self, settings: Settings, db: Database, lake: LakeService, catalog: CatalogService
    ) -> None:
        self.settings = settings
        self.db = db
        self.lake = lake
        self.catalog = catalog
        config = settings.features
        self.offline = OfflineStore(
            db,
            lake,
            catalog,
            self._offline_target,
            config.offline_flush_seconds,
            config.offline_flush_rows,
        )
        self.datasets = DatasetBuilder(self, settings.home / "cache" / "features")
        self._cache: dict[str, tuple[float, FeatureGroup]] = {}
        self._cache_lock = threading.Lock()

    def start(self) -> None:
        """Start the offline store's flusher."""
        self.offline.start()

    def close(self) -> None:
        """Write what the offline store has pending and stop its flusher."""
        self.offline.close()

    def _offline_target(self, name: str) -> OfflineTarget | None:
        try:
            return self.group(name).offline
        except NotFound:
            return None

    # -- groups ----------------------------------------------------------------------------

    def _arn(self, name: str) -> str:
        return arn(
            "sagemaker",
            f"feature-group/{name.lower()}",
            account_id=self.settings.aws.account_id,
            region=self.settings.aws.region,
        )

    def create_feature_group(self, ctx: RequestContext, spec: FeatureGroupCreate) -> str:
        """Create a feature group (CreateFeatureGroup); its ARN.

        Raises:
            ValidationError: Inconsistent definitions, no store, a missing bucket, or a
                catalog table that exists.
            AlreadyExists: ``ResourceInUse``: a group of that name exists.
        """
        ctx.require("write")
        schema = groups.check_create(spec)
        now = utcnow()
        wire = spec.model_dump(by_alias=True, exclude_none=True, mode="json")
        location = names = None
        if spec.offline_store_config is not None:
            s3_uri = spec.offline_store_config.s3_storage_config.s3_uri
            bucket, _ = parse_s3_uri(s3_uri)
            try:
                self.lake.describe_bucket(ctx, bucket)
            except NotFound:
                raise ValidationError(
                    f"OfflineStoreConfig.S3StorageConfig.S3Uri names bucket {bucket!r}, which "
                    "does not exist; create it first"
                ) from None
            location = groups.offline_uri(self.settings, s3_uri, spec.feature_group_name, now)
            offline_wire = wire["OfflineStoreConfig"]
            offline_wire["S3StorageConfig"]["ResolvedOutputS3Uri"] = location
            names = groups.catalog_names(spec, now)
            if names is not None:
                offline_wire["DataCatalogConfig"] = {
                    "TableName": names[1],
                    "Catalog": "AwsDataCatalog",
                    "Database": names[0],
                }
        record = FeatureGroupRecord(
            name=spec.feature_group_name,
            arn=self._arn(spec.feature_group_name),
            spec=wire,
            status="Created",
            offline_uri=location,
            catalog_database=names[0] if names else None,
            catalog_table=names[1] if names else None,
            principal=ctx.principal,
            creation_time=now,
            last_modified_time=now,
        )
        exists = AlreadyExists(f"Resource Already Exists: FeatureGroup {record.name!r}")
        try:
            with self.db.session() as session:
                if session.get(FeatureGroupRecord, record.name) is not None:
                    raise exists
                session.add(record)
        except IntegrityError:
            raise exists from None
        if location is not None and names is not None and spec.offline_store_config:
            creating = not spec.offline_store_config.disable_glue_table_creation
            try:
                self._create_table(ctx, names, schema, location, creating)
            except BaseException:
                with self.db.session() as session:
                    session.delete(session.get(FeatureGroupRecord, record.name))
                raise
        return record.arn

    def _create_table(
        self,
        ctx: RequestContext,
        names: tuple[str, str],
        schema: FeatureSchema,
        location: str,
        creating: bool,
    ) -> None:
        database, table = names
        if not creating:
            self.catalog.get_table(ctx, database, table)  # it must exist
            return
        if database == groups.DEFAULT_DATABASE:
            with contextlib.suppress(AlreadyExists):
                self.catalog.create_database(ctx, groups.catalog_database_input())
        try:
            self.catalog.create_table(
                ctx, database, groups.catalog_table_input(table, schema, location)
            )
        except AlreadyExists:
            raise groups.table_exists(database, table) from None

    def _record(self, name_or_arn: str) -> FeatureGroupRecord:
        name = groups.group_name(name_or_arn)
        with self.db.session() as session:
            record = session.get(FeatureGroupRecord, name)
        if record is None:
            raise groups.missing_group(name)
        return record

    def group(self, name_or_arn: str) -> FeatureGroup:
        """A group for record operations (briefly cached; see ``group_cache_seconds``).

        Raises:
            NotFound: ``ResourceNotFound``.
        """
        name = groups.group_name(name_or_arn)
        now = time.monotonic()
        cached = self._cache.get(name)
        if cached is not None and cached[0] > now:
            return cached[1]
        record = self._record(name)
        spec = record.spec
        schema = FeatureSchema.from_spec(spec)
        online = spec.get("OnlineStoreConfig") or {}
        target = None
        if record.offline_uri:
            target = OfflineTarget(
                record.name,
                schema,
                record.offline_uri,
                record.catalog_database,
                record.catalog_table,
            )
        found = FeatureGroup(
            name=record.name,
            arn=record.arn,
            spec=spec,
            schema=schema,
            online=bool(online.get("EnableOnlineStore")),
            ttl=ttl_seconds(online.get("TtlDuration")),
            offline=target,
        )
        with self._cache_lock:
            self._cache[name] = (now + self.settings.features.group_cache_seconds, found)
        return found

    def _forget(self, name: str) -> None:
        with self._cache_lock:
            self._cache.pop(name, None)

    def describe_feature_group(self, ctx: RequestContext, name_or_arn: str) -> FeatureGroupInfo:
        """DescribeFeatureGroup.

        Raises:
            NotFound: ``ResourceNotFound``.
        """
        ctx.require("read")
        record = self._record(name_or_arn)
        return groups.describe(
            record.spec,
            arn=record.arn,
            status=record.status,
            created=record.creation_time,
            modified=record.last_modified_time,
            blocked=self.offline.blocked.get(record.name),
        )

    def list_feature_groups(
        self,
        ctx: RequestContext,
        *,
        name_contains: str | None = None,
        status_equals: str | None = None,
        offline_status_equals: str | None = None,
        creation_time_after: Any = None,
        creation_time_before: Any = None,
        sort_by: str = "CreationTime",
        sort_order: str = "Descending",
        max_results: int = 10,
        next_token: str | None = None,
    ) -> Page[FeatureGroupSummary]:
        """ListFeatureGroups with SageMaker's filters, sorting and paging.

        Raises:
            ValidationError: ``max_results`` outside 1-100 or a bad token.
        """
        ctx.require("read")
        if not 1 <= max_results <= 100:
            raise ValidationError(f"MaxResults must be from 1 to 100, got {max_results}")
        offset = groups.page_offset(next_token)
        with self.db.session() as session:
            records = list(session.execute(select(FeatureGroupRecord)).scalars())
        items: list[FeatureGroupSummary] = []
        for r in records:
            status = groups.offline_status(r.spec, self.offline.blocked.get(r.name))
            if name_contains and name_contains.lower() not in r.name.lower():
                continue
            if status_equals and r.status != status_equals:
                continue
            if offline_status_equals and (status is None or status.status != offline_status_equals):
                continue
            if creation_time_after and r.creation_time <= creation_time_after:
                continue
            if creation_time_before and r.creation_time >= creation_time_before:
                continue
            items.append(
                FeatureGroupSummary(
                    feature_group_name=r.name,
                    feature_group_arn=r.arn,
                    creation_time=r.creation_time,
                    feature_group_status=r.status,
                    offline_store_status=status,
                )
            )
        keys = {
            "Name": lambda s: s.feature_group_name.lower(),
            "FeatureGroupStatus": lambda s: s.feature_group_status,
            "OfflineStoreStatus": lambda s: (
                s.offline_store_status.status if s.offline_store_status else ""
            ),
            "CreationTime": lambda s: s.creation_time,
        }
        items.sort(key=keys[sort_by], reverse=sort_order == "Descending")
        page = items[offset : offset + max_results]
        more = offset + max_results < len(items)
        return Page(
            items=page, next_token=groups.next_token(offset + max_results) if more else None
        )

    def update_feature_group(
        self,
        ctx: RequestContext,
        name_or_arn: str,
        additions: list[FeatureDefinition],
        ttl: dict[str, Any] | None = None,
    ) -> str:
        """UpdateFeatureGroup: add features and/or change the online store's TtlDuration.

        Raises:
            NotFound: ``ResourceNotFound``.
            ValidationError: A feature that exists already, or a TTL without online store.
        """
        ctx.require("write")
        name = groups.group_name(name_or_arn)
        with self.db.session() as session:
            record = session.get(FeatureGroupRecord, name)
            if record is None:
                raise groups.missing_group(name)
            spec = dict(record.spec)
            existing = {d["FeatureName"].lower() for d in spec["FeatureDefinitions"]}
            definitions = list(spec["FeatureDefinitions"])
            for definition in additions:
                if definition.feature_name.lower() in existing:
                    raise ValidationError(
                        f"Feature {definition.feature_name!r} exists in {name} already; "
                        "FeatureAdditions may only add new features"
                    )
                existing.add(definition.feature_name.lower())
                definitions.append(definition.model_dump(by_alias=True, exclude_none=True))
            spec["FeatureDefinitions"] = definitions
            FeatureSchema.from_spec(spec).check_definition()
            if ttl is not None:
                online = dict(spec.get("OnlineStoreConfig") or {})
                if not online.get("EnableOnlineStore"):
                    raise ValidationError(f"{name} has no online store to set a TtlDuration on")
                ttl_seconds(ttl)
                online["TtlDuration"] = ttl
                spec["OnlineStoreConfig"] = online
            record.spec = spec
            record.last_modified_time = utcnow()
            arn_ = record.arn
            table = (record.catalog_database, record.catalog_table, record.offline_uri)
        self._forget(name)
        database, table_name, location = table
        if additions and database and table_name and location:
            schema = FeatureSchema.from_spec(spec)
            self.catalog.update_table(
                ctx, database, groups.catalog_table_input(table_name, schema, location)
            )
        return arn_

    def delete_feature_group(self, ctx: RequestContext, name_or_arn: str) -> None:
        """DeleteFeatureGroup: the online store goes; offline files and table stay (as AWS).

        Raises:
            NotFound: ``ResourceNotFound``.
        """
        ctx.require("write")
        name = self._record(name_or_arn).name
        self.offline.flush(name)
        self.offline.discard(name)
        store.delete_group_records(self.db, name)
        with self.db.session() as session:
            record = session.get(FeatureGroupRecord, name)
            if record is not None:
                session.delete(record)
        self._forget(name)

    # -- training sets ---------------------------------------------------------------------

    def build_dataset(self, ctx: RequestContext, spec: DatasetBuild) -> DatasetInfo:
        """A point-in-time-correct training set (see :mod:`.training_sets`).

        Raises:
            NotFound: An unknown group, or a labels object that does not exist.
            ValidationError: Labels missing or given twice, a group without offline store,
                missing label columns, unknown features.
        """
        ctx.require("read")
        return self.datasets.build(ctx, spec)
