"""A table's partitions (Glue's BatchCreatePartition, GetPartition(s), DeletePartition).

:class:`PartitionCatalog` is the part of :class:`~lakeworks.lake.catalog.service.CatalogService`
that keeps partitions; the service supplies the database and the table lookup.
"""

from __future__ import annotations

import abc
import hashlib
import json

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.db import Database as MetadataDatabase
from lakeworks.lake.catalog import store
from lakeworks.lake.catalog.checks import check_descriptor, page_limit
from lakeworks.lake.catalog.expressions import parse_filter
from lakeworks.lake.catalog.store import PartitionRecord, TableRecord
from lakeworks.lake.objects import decode_token, encode_token
from lakeworks.schemas.catalog import (
    BatchCreatePartitionResult,
    ErrorDetail,
    Partition,
    PartitionError,
    PartitionInput,
)
from lakeworks.schemas.common import Page

__all__ = ["PartitionCatalog"]


class PartitionCatalog(abc.ABC):
    """Partition operations over the tables a subclass finds."""

    db: MetadataDatabase
    catalog_id: str

    @abc.abstractmethod
    def _require_table(self, database: str, name: str) -> TableRecord:
        """The table's record.

        Raises:
            NotFound: No such database or table.
        """

    def _partition(self, record: PartitionRecord) -> Partition:
        return Partition(
            values=list(record.values),
            database_name=record.database_name,
            table_name=record.table_name,
            creation_time=record.creation_time,
            catalog_id=self.catalog_id,
            **record.spec,
        )

    # -- partitions ------------------------------------------------------------------------

    def _check_partition(self, table: TableRecord, spec: PartitionInput) -> PartitionInput:
        keys = table.spec.get("partition_keys") or []
        if len(spec.values) != len(keys):
            raise ValidationError(
                f"Table {table.name!r} has {len(keys)} partition key(s) "
                f"{[k['name'] for k in keys]}; got {len(spec.values)} value(s) {spec.values}",
                aws_code="InvalidInputException",
            )
        if any(not isinstance(v, str) or len(v) > 1024 for v in spec.values):
            raise ValidationError(
                "Partition values must be strings of at most 1024 characters",
                aws_code="InvalidInputException",
            )
        check_descriptor(spec.storage_descriptor, "partition")
        return spec

    def batch_create_partition(
        self, ctx: RequestContext, database: str, table: str, partitions: list[PartitionInput]
    ) -> BatchCreatePartitionResult:
        """Create partitions; each one that fails is reported (Glue's BatchCreatePartition).

        Raises:
            NotFound: No such database or table.
            ValidationError: More than 100 partitions.
        """
        ctx.require("write")
        record = self._require_table(database, table)
        if len(partitions) > 100:
            raise ValidationError(
                f"At most 100 partitions per call, got {len(partitions)}",
                aws_code="InvalidInputException",
            )
        errors: list[PartitionError] = []
        now = utcnow()
        with self.db.session() as session:
            for spec in partitions:
                try:
                    self._check_partition(record, spec)
                except ValidationError as exc:
                    errors.append(_partition_error(spec.values, exc.aws_code, exc.message))
                    continue
                key = _values_key(spec.values)
                # flushed after each add, so a repeat within this batch is found too
                if session.get(PartitionRecord, (record.database_name, record.name, key)):
                    errors.append(
                        _partition_error(
                            spec.values, "AlreadyExistsException", "Partition already exists."
                        )
                    )
                    continue
                session.add(
                    PartitionRecord(
                        database_name=record.database_name,
                        table_name=record.name,
                        values_key=key,
                        values=list(spec.values),
                        spec=spec.model_dump(mode="json", exclude={"values"}),
                        creation_time=now,
                    )
                )
                session.flush()
        return BatchCreatePartitionResult(errors=errors)

    def get_partition(
        self, ctx: RequestContext, database: str, table: str, values: list[str]
    ) -> Partition:
        """One partition by its values (Glue's GetPartition).

        Raises:
            NotFound: No such database, table or partition (``EntityNotFoundException``).
        """
        ctx.require("read")
        record = self._require_table(database, table)
        with self.db.session() as session:
            row = session.get(
                PartitionRecord, (record.database_name, record.name, _values_key(values))
            )
        if row is None:
            raise NotFound(
                f"Partition {values} of table {record.name!r} not found",
                aws_code="EntityNotFoundException",
            )
        return self._partition(row)

    def get_partitions(
        self,
        ctx: RequestContext,
        database: str,
        table: str,
        *,
        expression: str | None = None,
        next_token: str | None = None,
        max_results: int = 1000,
    ) -> Page[Partition]:
        """A table's partitions, optionally filtered (Glue's GetPartitions).

        Args:
            expression: A filter such as ``year='2024' AND month='01'`` (see
                :mod:`lakeworks.lake.catalog.expressions`).

        Raises:
            NotFound: No such database or table.
            ValidationError: A malformed expression (with its position) or token.
        """
        ctx.require("read")
        record = self._require_table(database, table)
        limit = page_limit(max_results)
        matching = self.partitions_of(record, expression)
        offset = int(decode_token(next_token, "after")["after"]) if next_token else 0
        page = matching[offset : offset + limit]
        more = len(matching) > offset + limit
        return Page(
            items=[self._partition(r) for r in page],
            next_token=encode_token({"after": str(offset + limit)}) if more else None,
        )

    def partitions_of(
        self, table: TableRecord, expression: str | None = None
    ) -> list[PartitionRecord]:
        """Every partition of ``table`` that passes ``expression`` (no scope check)."""
        keys = [
            (k["name"], k.get("type") or "string") for k in table.spec.get("partition_keys", [])
        ]
        check = parse_filter(expression, keys) if expression and expression.strip() else None
        with self.db.session() as session:
            rows = store.list_partitions(session, table.database_name, table.name)
        return [r for r in rows if check is None or check.matches(list(r.values))]

    def delete_partition(
        self, ctx: RequestContext, database: str, table: str, values: list[str]
    ) -> None:
        """Delete one partition (Glue's DeletePartition).

        Raises:
            NotFound: No such database, table or partition.
        """
        ctx.require("write")
        record = self._require_table(database, table)
        key = _values_key(values)
        with self.db.session() as session:
            row = session.get(PartitionRecord, (record.database_name, record.name, key))
            if row is None:
                raise NotFound(
                    f"Partition {values} of table {record.name!r} not found",
                    aws_code="EntityNotFoundException",
                )
            session.delete(row)

    def delete_partitions(self, table: TableRecord, values: list[list[str]]) -> None:
        """Delete the partitions with ``values`` (no scope check; for crawlers)."""
        with self.db.session() as session:
            store.delete_partitions(
                session, table.database_name, table.name, [_values_key(v) for v in values]
            )


def _values_key(values: list[str]) -> str:
    return hashlib.sha256(json.dumps(values).encode("utf-8")).hexdigest()


def _partition_error(values: list[str], code: str, message: str) -> PartitionError:
    return PartitionError(
        partition_values=list(values),
        error_detail=ErrorDetail(error_code=code, error_message=message),
    )
