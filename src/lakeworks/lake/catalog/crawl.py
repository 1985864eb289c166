"""One crawl: scan S3 targets through the lake, classify files, write tables and partitions.

Layout rules, like Glue's crawler:

- Each folder directly under a target path is one dataset (one table named after the folder,
  lower-cased, with ``table_prefix``); files directly under the target form a dataset named
  after the target itself. When every folder under the target is ``key=value`` with one key,
  the target itself is one partitioned dataset.
- Folders between a dataset's root and its files are partitions: ``key=value`` folders give a
  key named ``key`` (Hive style), other folders keys named ``partition_0``, ``partition_1`` …
- Keys whose name has a segment starting with ``_`` or ``.``, folder markers, empty objects and
  Athena's ``.metadata`` files are skipped; so are keys matching a target's exclusion globs.

A changed schema updates the table (the old definition stays a version) unless the policy says
``LOG``; tables this crawler made earlier under its targets that no longer exist are deleted,
deprecated or logged as the delete policy says. Everything a file got wrong is reported with
its path and line.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound
from lakeworks.lake.catalog.classify import (
    SAMPLE_BYTES,
    FileSchema,
    classify_parquet,
    classify_text,
    is_parquet,
)
from lakeworks.lake.catalog.formats import DataFormat, descriptor_for, table_parameters
from lakeworks.lake.catalog.names import sanitize_name
from lakeworks.lake.catalog.service import CatalogService
from lakeworks.lake.catalog.types import merge_types
from lakeworks.lake.service import LakeService, parse_s3_uri
from lakeworks.schemas.catalog import (
    Crawler,
    CrawlMessage,
    PartitionInput,
    S3Target,
    TableColumn,
    TableInput,
)

__all__ = ["CrawlCancelled", "CrawlFailed", "CrawlReport", "LakeFile", "run_crawl"]

MAX_MESSAGES = 500
_HIVE = re.compile(r"^([^=/]+)=(.*)$")


class CrawlFailed(Exception):
    """The crawl cannot go on; the message is the crawl's error message."""


class CrawlCancelled(Exception):
    """The crawl was stopped."""


@dataclass
class CrawlReport:
    """What a crawl changed and noticed."""

    tables_created: list[str] = field(default_factory=list)
    tables_updated: list[str] = field(default_factory=list)
    tables_deleted: list[str] = field(default_factory=list)
    partitions_added: int = 0
    partitions_deleted: int = 0
    messages: list[CrawlMessage] = field(default_factory=list)

    def note(self, severity: str, path: str, message: str, line: int | None = None) -> None:
        """Add a message (up to :data:`MAX_MESSAGES`)."""
        if len(self.messages) < MAX_MESSAGES:
            self.messages.append(
                CrawlMessage(severity=severity, path=path, line=line, message=message)
            )


@dataclass(frozen=True)
class _File:
    bucket: str
    key: str
    size: int
    partition: tuple[str, ...]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass
class _Dataset:
    name: str
    root: str  # s3://bucket/prefix/ ending in "/"
    files: list[_File] = field(default_factory=list)


class LakeFile(io.RawIOBase):
    """A seekable, read-only view of one object, read with ranged GETs (Parquet footers)."""

    def __init__(
        self, lake: LakeService, ctx: RequestContext, bucket: str, key: str, size: int
    ) -> None:
        super().__init__()
        self._lake = lake
        self._ctx = ctx
        self._bucket = bucket
        self._key = key
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        _, _, _, chunks = self._lake.get_object(
            self._ctx, self._bucket, self._key, byte_range=(self._pos, self._pos + want - 1)
        )
        data = b"".join(chunks)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def _glob(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        char = pattern[i]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "{":
            end = pattern.find("}", i)
            if end < 0:
                out.append(re.escape(char))
            else:
                out.append(
                    "(" + "|".join(re.escape(p) for p in pattern[i + 1 : end].split(",")) + ")"
                )
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("^" + "".join(out) + "$")


def _skipped(relative: str) -> bool:
    parts = relative.split("/")
    return (
        relative.endswith("/")
        or relative.endswith("$folder$")
        or relative.endswith(".metadata")
        or any(p.startswith(("_", ".")) for p in parts if p)
    )


def _list(lake: LakeService, ctx: RequestContext, bucket: str, prefix: str) -> Iterator[_File]:
    token: str | None = None
    while True:
        page = lake.list_objects(ctx, bucket, prefix=prefix, continuation_token=token)
        for item in page.items:
            yield _File(bucket, item.key, item.size, ())
        token = page.next_token
        if token is None:
            return


def _target_name(bucket: str, prefix: str) -> str:
    segments = [s for s in prefix.split("/") if s]
    return segments[-1] if segments else bucket


def _datasets(
    lake: LakeService,
    ctx: RequestContext,
    target: S3Target,
    table_prefix: str,
    report: CrawlReport,
) -> list[_Dataset]:
    """Group a target's objects into datasets (see the module docstring)."""
    try:
        bucket, prefix = parse_s3_uri(target.path)
        lake.describe_bucket(ctx, bucket)
    except LakeworksError as exc:
        raise CrawlFailed(f"Target {target.path} is unreachable: {exc.message}") from None
    folder = prefix if not prefix or prefix.endswith("/") else prefix + "/"
    excluded = [_glob(p) for p in target.exclusions]
    files: list[tuple[list[str], _File]] = []
    for item in _list(lake, ctx, bucket, folder):
        relative = item.key[len(folder) :]
        if _skipped(relative) or item.size == 0 or any(p.match(relative) for p in excluded):
            continue
        files.append((relative.split("/"), item))
    if not files and prefix and not prefix.endswith("/"):
        try:  # the target may name a single object
            info = lake.head_object(ctx, bucket, prefix)
        except NotFound:
            info = None
        if info is not None and info.size > 0:
            name = sanitize_name(prefix.rsplit("/", 1)[-1].split(".")[0], prefix=table_prefix)
            root = f"s3://{bucket}/{prefix.rsplit('/', 1)[0] + '/' if '/' in prefix else ''}"
            return [_Dataset(name, root, [_File(bucket, prefix, info.size, ())])]
    if not files:
        raise CrawlFailed(f"Target {target.path} holds no objects to crawl")
    first_level = {parts[0] for parts, _ in files if len(parts) > 1}
    keys = {m.group(1) if (m := _HIVE.match(s)) else None for s in first_level}
    root_name = sanitize_name(_target_name(bucket, prefix), prefix=table_prefix)
    if all(len(parts) == 1 for parts, _ in files) or (len(keys) == 1 and None not in keys):
        dataset = _Dataset(root_name, f"s3://{bucket}/{folder}")
        dataset.files = [_with_partition(item, parts[:-1]) for parts, item in files]
        return [dataset]
    datasets: dict[str, _Dataset] = {}
    for parts, item in files:
        if len(parts) == 1:
            key, name, root, partition = "", root_name, f"s3://{bucket}/{folder}", []
        else:
            key, root = parts[0], f"s3://{bucket}/{folder}{parts[0]}/"
            name, partition = sanitize_name(parts[0], prefix=table_prefix), parts[1:-1]
        dataset = datasets.setdefault(key, _Dataset(name, root))
        dataset.files.append(_with_partition(item, partition))
    if "" in datasets and len(datasets) > 1:
        report.note(
            "WARNING",
            datasets[""].root,
            "Files directly under the target sit beside dataset folders; they form a table of "
            "their own",
        )
    return list(datasets.values())


def _with_partition(item: _File, partition: list[str]) -> _File:
    return _File(item.bucket, item.key, item.size, tuple(partition))


def _classify(lake: LakeService, ctx: RequestContext, item: _File) -> FileSchema:
    # through the lake service: its access rules apply and encrypted objects come decrypted
    info, _, _, chunks = lake.get_object(
        ctx, item.bucket, item.key, byte_range=(0, SAMPLE_BYTES - 1)
    )
    head = b"".join(chunks)
    if is_parquet(head):
        source = (
            io.BytesIO(head)
            if info.size <= len(head)
            else LakeFile(lake, ctx, item.bucket, item.key, info.size)
        )
        return classify_parquet(source)  # type: ignore[arg-type]
    return classify_text(head, complete=info.size <= len(head))


@dataclass
class _Merged:
    fmt: DataFormat
    columns: list[tuple[str, str]]
    records: int


def _merge(
    dataset: _Dataset, schemas: list[tuple[_File, FileSchema]], report: CrawlReport
) -> _Merged | None:
    known = [(f, s) for f, s in schemas if s.fmt is not None]
    if not known:
        report.note("ERROR", dataset.root, "No file of this dataset could be classified; no table")
        return None
    kinds = Counter(s.classification for _, s in known)
    kind = kinds.most_common(1)[0][0]
    formats = Counter(s.fmt for _, s in known if s.classification == kind)
    fmt = formats.most_common(1)[0][0]
    assert fmt is not None
    columns: dict[str, str] = {}
    by_position = fmt.kind == "csv" and fmt.header_lines == 0
    header = next((s.first_row for _, s in known if s.fmt == fmt), [])
    records = 0
    for item, schema in known:
        if (
            fmt.header_lines
            and schema.fmt == replace(fmt, header_lines=0)
            and (schema.first_row == header)
        ):
            # all values strings, so Glue's rule saw no header; its first row is the header
            schema = FileSchema(
                fmt, [(n, "string") for n in header], [], max(0, schema.records - 1)
            )
        if schema.classification != kind:
            report.note(
                "WARNING",
                item.uri,
                f"Classified as {schema.classification}, but the table is {kind}; "
                "the file is left out of the schema",
            )
            continue
        if schema.fmt != fmt:
            report.note(
                "WARNING", item.uri, "Its delimiter, quoting or header differ from the other files'"
            )
        records += schema.records
        for index, (name, type_) in enumerate(schema.columns):
            if by_position:
                name = f"col{index}"
            if name not in columns:
                columns[name] = type_
                continue
            merged = merge_types(columns[name], type_)
            if merged is None:
                if columns[name] != "string":
                    report.note(
                        "WARNING",
                        item.uri,
                        f"Column {name!r} is {type_} here but {columns[name]} in other files; "
                        "the column is typed string",
                    )
                merged = "string"
            columns[name] = merged
    return _Merged(fmt, list(columns.items()), records)


def _partition_keys(dataset: _Dataset, report: CrawlReport) -> tuple[list[str], list[_File]]:
    """Partition key names, and the files at the dataset's partition depth."""
    depths = Counter(len(f.partition) for f in dataset.files)
    depth = depths.most_common(1)[0][0]
    kept = []
    for item in dataset.files:
        if len(item.partition) != depth:
            report.note(
                "WARNING",
                item.uri,
                f"Skipped: it lies {len(item.partition)} folder(s) below the table root, the "
                f"table's partitions are {depth} deep",
            )
        else:
            kept.append(item)
    names = []
    for level in range(depth):
        segments = {f.partition[level] for f in kept}
        matched = {m.group(1).lower() if (m := _HIVE.match(s)) else "" for s in segments}
        hive = len(matched) == 1 and "" not in matched
        names.append(matched.pop() if hive else f"partition_{level}")
    return names, kept


def _partition_values(item: _File, names: list[str]) -> list[str]:
    values = []
    for name, segment in zip(names, item.partition, strict=True):
        match = _HIVE.match(segment)
        values.append(match.group(2) if match and match.group(1).lower() == name else segment)
    return values


def _sample(files: list[_File], size: int | None) -> list[_File]:
    if size is None:
        return files
    per_leaf: Counter[tuple[str, ...]] = Counter()
    chosen = []
    for item in files:
        if per_leaf[item.partition] < size:
            chosen.append(item)
            per_leaf[item.partition] += 1
    return chosen


def _signature(spec: TableInput) -> object:
    sd = spec.storage_descriptor
    return (
        [(c.name, c.type) for c in (sd.columns if sd else [])],
        [(k.name, k.type) for k in spec.partition_keys],
        sd.serde_info.model_dump() if sd and sd.serde_info else None,
        (sd.input_format, sd.location) if sd else None,
        {
            k: spec.parameters.get(k)
            for k in ("classification", "skip.header.line.count", "delimiter")
        },
    )


def run_crawl(
    lake: LakeService,
    catalog: CatalogService,
    ctx: RequestContext,
    crawler: Crawler,
    cancel: threading.Event,
) -> CrawlReport:
    """Crawl ``crawler``'s targets into its database.

    Args:
        lake: Where the data is.
        catalog: The :class:`~lakeworks.lake.catalog.service.CatalogService` to write to.
        ctx: Who runs the crawl (needs read on the lake, write on the catalog).
        crawler: The crawler's definition.
        cancel: Set to stop the crawl between files.

    Raises:
        CrawlFailed: The database is missing or a target is unreachable or empty.
        CrawlCancelled: ``cancel`` was set.
    """
    report = CrawlReport()
    try:
        catalog.get_database(ctx, crawler.database_name)
    except NotFound:
        raise CrawlFailed(f"Database {crawler.database_name!r} not found") from None
    targets = crawler.targets.s3_targets
    if not targets:
        raise CrawlFailed("The crawler has no S3 targets")
    datasets: list[tuple[_Dataset, S3Target]] = []
    for target in targets:
        datasets += [
            (d, target) for d in _datasets(lake, ctx, target, crawler.table_prefix or "", report)
        ]
    seen: set[str] = set()
    for dataset, target in datasets:
        if dataset.name in seen:  # the same folder name under two targets
            digest = hashlib.sha256(dataset.root.encode("utf-8")).hexdigest()[:8]
            dataset.name = sanitize_name(f"{dataset.name}_{digest}")
        seen.add(dataset.name)
        _crawl_dataset(lake, catalog, ctx, crawler, dataset, target, cancel, report)
    _retire_tables(catalog, ctx, crawler, {d.name for d, _ in datasets}, report)
    return report


def _crawl_dataset(
    lake: LakeService,
    catalog: CatalogService,
    ctx: RequestContext,
    crawler: Crawler,
    dataset: _Dataset,
    target: S3Target,
    cancel: threading.Event,
    report: CrawlReport,
) -> None:
    keys, files = _partition_keys(dataset, report)
    schemas: list[tuple[_File, FileSchema]] = []
    for item in _sample(files, target.sample_size):
        if cancel.is_set():
            raise CrawlCancelled
        try:
            schema = _classify(lake, ctx, item)
        except LakeworksError as exc:
            report.note("ERROR", item.uri, f"Could not be read: {exc.message}")
            continue
        for issue in schema.issues:
            report.note(issue.severity, item.uri, issue.message, issue.line)
        schemas.append((item, schema))
    merged = _merge(dataset, schemas, report)
    if merged is None:
        return
    columns = [TableColumn(name=n, type=t) for n, t in merged.columns if n not in keys]
    for name in {n for n, _ in merged.columns} & set(keys):
        report.note(
            "WARNING",
            dataset.root,
            f"Column {name!r} is also a partition key; the partition key wins",
        )
    size = sum(f.size for f in files)
    parameters = table_parameters(merged.fmt) | {
        "UPDATED_BY_CRAWLER": crawler.name,
        "CrawlerSchemaDeserializerVersion": "1.0",
        "CrawlerSchemaSerializerVersion": "1.0",
        "objectCount": str(len(files)),
        "recordCount": str(merged.records),
        "sizeKey": str(size),
        "averageRecordSize": str(size // merged.records if merged.records else 0),
    }
    spec = TableInput(
        name=dataset.name,
        storage_descriptor=descriptor_for(merged.fmt, columns, dataset.root),
        partition_keys=[TableColumn(name=k, type="string") for k in keys],
        table_type="EXTERNAL_TABLE",
        parameters=parameters,
    )
    try:
        existing = catalog.get_table(ctx, crawler.database_name, dataset.name)
    except NotFound:
        existing = None
    if existing is None:
        catalog.create_table(ctx, crawler.database_name, spec)
        report.tables_created.append(dataset.name)
    else:
        old = TableInput.model_validate(existing.model_dump(include=set(TableInput.model_fields)))
        if _signature(old) != _signature(spec):
            if crawler.schema_change_policy.update_behavior == "LOG":
                report.note(
                    "WARNING", dataset.root, "The schema changed; not applied (update policy LOG)"
                )
                return
            catalog.update_table(ctx, crawler.database_name, spec)
            report.tables_updated.append(dataset.name)
    _sync_partitions(catalog, ctx, crawler, dataset, keys, files, spec, report)


def _sync_partitions(
    catalog: CatalogService,
    ctx: RequestContext,
    crawler: Crawler,
    dataset: _Dataset,
    keys: list[str],
    files: list[_File],
    spec: TableInput,
    report: CrawlReport,
) -> None:
    if not keys:
        return
    wanted: dict[tuple[str, ...], str] = {}
    for item in files:
        values = tuple(_partition_values(item, keys))
        wanted.setdefault(values, dataset.root + "".join(p + "/" for p in item.partition))
    record = catalog.table_record(crawler.database_name, dataset.name)
    existing = {tuple(r.values) for r in catalog.partitions_of(record)}
    assert spec.storage_descriptor is not None
    inputs = [
        PartitionInput(
            values=list(values),
            storage_descriptor=spec.storage_descriptor.model_copy(update={"location": location}),
        )
        for values, location in wanted.items()
        if values not in existing
    ]
    for start in range(0, len(inputs), 100):
        result = catalog.batch_create_partition(
            ctx, crawler.database_name, dataset.name, inputs[start : start + 100]
        )
        report.partitions_added += len(inputs[start : start + 100]) - len(result.errors)
        for error in result.errors:
            report.note(
                "ERROR",
                dataset.root,
                f"Partition {error.partition_values}: {error.error_detail.error_message}",
            )
    gone = [list(v) for v in existing if v not in wanted]
    if gone and crawler.schema_change_policy.update_behavior == "UPDATE_IN_DATABASE":
        catalog.delete_partitions(record, gone)
        report.partitions_deleted += len(gone)


def _retire_tables(
    catalog: CatalogService,
    ctx: RequestContext,
    crawler: Crawler,
    current: set[str],
    report: CrawlReport,
) -> None:
    """Apply the delete policy to tables this crawler made under its targets that are gone."""
    roots = []
    for target in crawler.targets.s3_targets:
        bucket, prefix = parse_s3_uri(target.path)
        roots.append(f"s3://{bucket}/{prefix}")
    policy = crawler.schema_change_policy.delete_behavior
    for record in catalog.table_records(crawler.database_name):
        params = record.spec.get("parameters") or {}
        location = (record.spec.get("storage_descriptor") or {}).get("location") or ""
        if (
            record.name in current
            or params.get("UPDATED_BY_CRAWLER") != crawler.name
            or not any(location.startswith(root) for root in roots)
        ):
            continue
        if policy == "DELETE_FROM_DATABASE":
            catalog.delete_table(ctx, crawler.database_name, record.name)
            report.tables_deleted.append(record.name)
        elif policy == "DEPRECATE_IN_DATABASE":
            if "DEPRECATED_BY_CRAWLER" in params:
                continue
            table = catalog.get_table(ctx, crawler.database_name, record.name)
            spec = TableInput.model_validate(table.model_dump(include=set(TableInput.model_fields)))
            spec.parameters = {**spec.parameters, "DEPRECATED_BY_CRAWLER": "1"}
            catalog.update_table(ctx, crawler.database_name, spec)
            report.tables_deleted.append(record.name)
        else:
            report.note(
                "WARNING", location, f"Table {record.name!r} has no data left (delete policy LOG)"
            )
