"""Training sets from the offline store: read labels and feature files, join, write.

The join itself is pure (:mod:`.training_sets`); this module gathers its inputs from the lake
(the groups' offline Parquet files, labels given inline or as a lake object or prefix) and
writes the result back when asked.
"""

from __future__ import annotations

import io
import math
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.features.training_sets import GroupFiles, point_in_time_join
from lakeworks.lake.catalog.sql import LakeFiles
from lakeworks.lake.service import parse_s3_uri
from lakeworks.schemas.features import DatasetBuild, DatasetInfo

if TYPE_CHECKING:
    from lakeworks.features.service import FeatureStoreService

__all__ = ["MAX_INLINE_ROWS", "DatasetBuilder"]

#: Rows a build answers inline; past that, give ``output_uri``.
MAX_INLINE_ROWS = 100_000


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


class DatasetBuilder:
    """Builds training sets for the feature store service.

    Args:
        service: The feature store (groups, the offline buffer, the lake).
        cache_dir: Where lake objects that cannot be read in place are staged.
    """

    def __init__(self, service: FeatureStoreService, cache_dir: Path) -> None:
        self.service = service
        self.files = LakeFiles(service.catalog, cache_dir)
        self.scratch_dir = cache_dir / "scratch"

    def _labels(self, ctx: RequestContext, spec: DatasetBuild, scratch: Path) -> pa.Table:
        if (spec.labels is None) == (spec.labels_uri is None):
            raise ValidationError("Give the labels either inline (labels) or as labels_uri")
        if spec.labels is not None:
            if not spec.labels:
                raise ValidationError("labels is empty; give at least one label row")
            try:
                return pa.Table.from_pylist(spec.labels)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ValidationError(f"labels rows do not form a table: {exc}") from None
        assert spec.labels_uri is not None
        items = self.files.list(ctx, spec.labels_uri)
        if not items:  # a single object, not a prefix
            bucket, key = parse_s3_uri(spec.labels_uri)
            items = [self.service.lake.head_object(ctx, bucket, key)]
        paths = [str(self.files.path(ctx, item, lambda: scratch)) for item in items]
        suffixes = {Path(p).suffix.lower() for p in paths}
        quoted = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"
        if suffixes <= {".parquet"}:
            source = f"read_parquet({quoted}, union_by_name=true)"
        elif suffixes <= {".csv", ".gz"}:
            source = f"read_csv({quoted}, header=true, union_by_name=true)"
        else:
            raise ValidationError(
                f"labels_uri must hold Parquet or CSV files, found {', '.join(sorted(suffixes))}"
            )
        with duckdb.connect(":memory:") as connection:
            try:
                return connection.sql(f"SELECT * FROM {source}").to_arrow_table()  # noqa: S608
            except duckdb.Error as exc:
                raise ValidationError(f"labels_uri could not be read: {exc}") from None

    def build(self, ctx: RequestContext, spec: DatasetBuild) -> DatasetInfo:
        """Build the training set ``spec`` describes (see the service's ``build_dataset``)."""
        found = []
        for name in spec.feature_groups:
            group = self.service.group(name)
            if group.offline is None:
                raise ValidationError(
                    f"Feature group {group.name} has no offline store; training sets are built "
                    "from offline stores"
                )
            found.append(group)
        for group in found:
            self.service.offline.flush(group.name)
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.scratch_dir) as tmp:
            scratch = Path(tmp)
            labels = self._labels(ctx, spec, scratch)
            inputs = []
            for group in found:
                assert group.offline is not None
                items = self.files.list(ctx, group.offline.uri)
                paths = [str(self.files.path(ctx, item, lambda: scratch)) for item in items]
                inputs.append(GroupFiles(group.name, group.schema, paths))
            table = point_in_time_join(
                labels,
                spec.record_identifier,
                spec.event_time,
                inputs,
                features=spec.features,
                include_deleted=spec.include_deleted,
            )
        if spec.output_uri is not None:
            bucket, key = parse_s3_uri(spec.output_uri)
            if not key or key.endswith("/"):
                key += "dataset.parquet"
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            buffer.seek(0)
            self.service.lake.put_object(ctx, bucket, key, buffer)
            return DatasetInfo(
                columns=table.column_names,
                rows=[],
                row_count=table.num_rows,
                output_uri=f"s3://{bucket}/{key}",
            )
        if table.num_rows > MAX_INLINE_ROWS:
            raise ValidationError(
                f"The training set has {table.num_rows} rows, more than {MAX_INLINE_ROWS} "
                "answered inline; give output_uri to write it to the lake"
            )
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        rows = [[_json_value(v) for v in row] for row in zip(*columns, strict=True)]
        return DatasetInfo(columns=table.column_names, rows=rows, row_count=table.num_rows)
