"""Object select: S3 Select SQL over one CSV, JSON or Parquet object, evaluated by DuckDB.

:func:`select_object` reads the object through the lake service (so the caller needs
``s3:GetObject`` under the bucket's policy, and an encrypted object arrives decrypted), spools
it, decompressed and cut to the scan range, into a scratch directory of its own, and opens a
sandboxed DuckDB connection that can read only that file, as a view ``s3object``. The
expression is checked and translated by :mod:`~lakeworks.lake.select_sql`. The first batch of
rows is computed before :func:`select_object` returns, so a bad expression is an error, not a
broken stream; :meth:`Selection.chunks` then serializes the rest as CSV or JSON in chunks.

Byte counts follow S3: *scanned* is what was read from the store (compressed), *processed*
what was parsed (decompressed, within the scan range), *returned* what was written out.
"""

from __future__ import annotations

import bz2
import contextlib
import csv
import shutil
import tempfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import duckdb
import pyarrow as pa

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import ValidationError
from lakeworks.lake.base import close_chunks
from lakeworks.lake.select_output import RecordWriter
from lakeworks.lake.select_sql import SOURCE_VIEW, translate
from lakeworks.schemas.lake_select import CsvInput, SelectRequest, SelectStats

if TYPE_CHECKING:
    from lakeworks.lake.service import LakeService

__all__ = ["CHUNK_BYTES", "Selection", "select_object"]

#: Output is handed out in chunks of about this many bytes (one Records event each).
CHUNK_BYTES = 64 * 1024
_BATCH_ROWS = 4096
_COPY = 1024 * 1024
_SNIFF_ROWS = 1000
_NEWLINES = ("\n", "\r\n", "\r")


def _invalid(code: str, message: str) -> ValidationError:
    return ValidationError(message, aws_code=code)


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _one_char(value: str | None, name: str, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if value is None or len(value) != 1:
        raise _invalid("InvalidRequestParameter", f"{name} must be exactly one character")


def _check(spec: SelectRequest) -> str:
    """Check the request; returns the input kind (``csv``, ``json``, ``parquet``)."""
    if spec.expression_type != "SQL":
        raise _invalid(
            "InvalidExpressionType",
            f"ExpressionType {spec.expression_type!r} is not supported; use SQL",
        )
    source = spec.input_serialization
    kinds = [
        kind
        for kind, given in (
            ("csv", source.csv),
            ("json", source.json_input),
            ("parquet", source.parquet),
        )
        if given is not None
    ]
    if len(kinds) != 1:
        raise _invalid(
            "ObjectSerializationConflict",
            "InputSerialization must specify exactly one of CSV, JSON or Parquet",
        )
    kind = kinds[0]
    if source.compression_type not in ("NONE", "GZIP", "BZIP2"):
        raise _invalid(
            "InvalidCompressionFormat",
            f"CompressionType {source.compression_type!r} is not supported; use NONE, GZIP "
            "or BZIP2",
        )
    if kind == "parquet" and source.compression_type != "NONE":
        raise _invalid(
            "InvalidCompressionFormat",
            "Parquet objects take CompressionType NONE (their pages carry their own compression)",
        )
    if source.csv is not None:
        csv_in = source.csv
        if csv_in.file_header_info not in ("USE", "IGNORE", "NONE"):
            raise _invalid(
                "InvalidFileHeaderInfo",
                f"FileHeaderInfo {csv_in.file_header_info!r} is invalid; use USE, IGNORE or NONE",
            )
        _one_char(csv_in.field_delimiter, "FieldDelimiter")
        _one_char(csv_in.quote_character, "QuoteCharacter")
        _one_char(csv_in.quote_escape_character, "QuoteEscapeCharacter")
        _one_char(csv_in.comments or None, "Comments", optional=True)
        if csv_in.record_delimiter not in _NEWLINES:
            raise _invalid("InvalidRequestParameter", r"RecordDelimiter must be \n, \r\n or \r")
    if source.json_input is not None and source.json_input.type not in ("DOCUMENT", "LINES"):
        raise _invalid(
            "InvalidJsonType",
            f"JSON Type {source.json_input.type!r} is invalid; use DOCUMENT or LINES",
        )
    target = spec.output_serialization
    if (target.csv is None) == (target.json_output is None):
        raise _invalid(
            "ObjectSerializationConflict",
            "OutputSerialization must specify exactly one of CSV or JSON",
        )
    if target.csv is not None:
        if target.csv.quote_fields not in ("ALWAYS", "ASNEEDED"):
            raise _invalid(
                "InvalidQuoteFields",
                f"QuoteFields {target.csv.quote_fields!r} is invalid; use ALWAYS or ASNEEDED",
            )
        _one_char(target.csv.field_delimiter, "FieldDelimiter")
        _one_char(target.csv.quote_character, "QuoteCharacter")
        _one_char(target.csv.quote_escape_character, "QuoteEscapeCharacter")
    if spec.scan_range is not None:
        if (
            kind == "parquet"
            or source.compression_type != "NONE"
            or (source.json_input is not None and source.json_input.type != "LINES")
        ):
            raise _invalid(
                "UnsupportedScanRangeInput",
                "ScanRange works on uncompressed CSV and JSON LINES objects only",
            )
        start, end = spec.scan_range.start, spec.scan_range.end
        if (
            (start is not None and start < 0)
            or (end is not None and end < 0)
            or (start is not None and end is not None and end < start)
        ):
            raise _invalid(
                "InvalidScanRange",
                f"ScanRange Start {start} and End {end} must be 0 <= Start <= End",
            )
    return kind


def _decompressor(kind: str) -> Callable[[bytes], bytes]:
    """A function feeding compressed chunks in and plain bytes out (multi-member streams too)."""
    if kind == "NONE":
        return lambda data: data
    make: Callable[[], Any] = (
        (lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)) if kind == "GZIP" else bz2.BZ2Decompressor
    )
    state = [make()]

    def feed(data: bytes) -> bytes:
        out = []
        while data:
            current = state[0]
            try:
                out.append(current.decompress(data))
            except (zlib.error, OSError, EOFError) as exc:
                raise _invalid(
                    "InvalidCompressionFormat", f"The object is not valid {kind} data: {exc}"
                ) from None
            if not current.eof:
                break
            data = current.unused_data
            state[0] = make()
        return b"".join(out)

    return feed


def _line_end(handle: BinaryIO, offset: int) -> int:
    """The offset just past the first newline at or after ``offset`` (or the end)."""
    handle.seek(offset)
    position = offset
    while chunk := handle.read(_COPY):
        found = chunk.find(b"\n")
        if found >= 0:
            return position + found + 1
        position += len(chunk)
    return position


def _cut(source: Path, target: Path, spec: SelectRequest, header: bool) -> int:
    """Copy the records that start in the scan range (and the header line) to ``target``."""
    assert spec.scan_range is not None
    size = source.stat().st_size
    start, end = spec.scan_range.start, spec.scan_range.end
    if start is None:  # only End: the last End bytes, as S3 reads it
        start, end = max(0, size - (end or 0)), size - 1
    last = size - 1 if end is None else min(end, size - 1)
    with source.open("rb") as handle, target.open("wb") as out:
        first_line = _line_end(handle, 0) if header else 0
        begin = 0 if start == 0 else _line_end(handle, start - 1)
        begin = max(begin, first_line)
        finish = _line_end(handle, last) if last >= begin else begin
        if header:
            handle.seek(0)
            out.write(handle.read(first_line))
        handle.seek(begin)
        remaining = max(0, finish - begin)
        while remaining:
            chunk = handle.read(min(_COPY, remaining))
            if not chunk:
                break
            out.write(chunk)
            remaining -= len(chunk)
        return out.tell()


def _drop_comments(source: Path, target: Path, comment: bytes) -> None:
    """Copy ``source`` without the rows that start with ``comment`` (S3's ``Comments``).

    DuckDB's own ``comment`` option also cuts rows at a comment character in mid-row, which
    S3 does not, so the rows are dropped here.
    """
    with source.open("rb") as handle, target.open("wb") as out:
        for line in handle:
            if not line.startswith(comment):
                out.write(line)


def _csv_dialect(csv_in: CsvInput) -> dict[str, Any]:
    same = csv_in.quote_escape_character == csv_in.quote_character
    return {
        "delimiter": csv_in.field_delimiter,
        "quotechar": csv_in.quote_character,
        "escapechar": None if same else csv_in.quote_escape_character,
        "doublequote": same,
    }


def _csv_columns(path: Path, csv_in: CsvInput) -> list[str]:
    """The CSV's columns: the header's names (``USE``) or ``_1`` … ``_N``.

    The count is the widest of the first :data:`_SNIFF_ROWS` records (DuckDB's own sniffer
    would also guess comment characters and rows to skip, which S3 never does).
    """
    widest, header = 0, None
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, **_csv_dialect(csv_in))):
            if number == 0:
                header = row
            widest = max(widest, len(row))
            if number >= _SNIFF_ROWS:
                break
    names = [f"_{i}" for i in range(1, max(widest, 1) + 1)]
    if csv_in.file_header_info == "USE" and header is not None:
        seen: set[str] = set()
        for i, name in enumerate(header):
            name = name.strip() or names[i]
            while name.lower() in seen:
                name += "_"
            seen.add(name.lower())
            names[i] = name
    return names


def _reader_sql(kind: str, path: str, spec: SelectRequest, columns: list[str] | None) -> str:
    source = spec.input_serialization
    if kind == "parquet":
        return f"read_parquet({_literal(path)})"
    if kind == "json":
        assert source.json_input is not None
        fmt = "newline_delimited" if source.json_input.type == "LINES" else "auto"
        return f"read_json({_literal(path)}, format={_literal(fmt)})"
    csv_in = source.csv or CsvInput()
    types = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in columns or [])
    options = [
        f"delim={_literal(csv_in.field_delimiter)}",
        f"quote={_literal(csv_in.quote_character)}",
        f"escape={_literal(csv_in.quote_escape_character)}",
        "header=false",
        f"skip={0 if csv_in.file_header_info == 'NONE' else 1}",
        f"columns={{{types}}}",
        "auto_detect=false",
        "null_padding=true",
        "strict_mode=false",
        "parallel=false",  # null padding with quoted newlines needs the serial reader
    ]
    return f"read_csv({_literal(path)}, {', '.join(options)})"


#: DuckDB's error prefixes (also inside Arrow errors raised while streaming) → S3's codes.
_ERROR_CODES = (
    ("Parser Error", "ParseUnexpectedToken"),
    ("Conversion Error", "CastFailed"),
    ("Out of Range Error", "IntegerOverflow"),
)


def _failure(exc: Exception, kind: str) -> ValidationError:
    """S3 Select's error for what DuckDB refused (while planning or while streaming)."""
    text = str(exc).strip()
    first = text.split("\n", 1)[0]
    code = "EvaluatorInvalidArguments"
    for prefix, name in _ERROR_CODES:
        if text.startswith(prefix):
            code = name
    if code == "CastFailed" and "CSV Error on Line" in text:
        # DuckDB folds the cast into the CSV reader; its second line names the value
        first = " ".join(line.strip() for line in text.splitlines()[:4] if line.strip())
    elif text.startswith("Binder Error"):
        if "not found" in first:
            code = "EvaluatorBindingDoesNotExist"
        elif "No function matches" in first or "Cannot compare" in first:
            code = "IncorrectSqlFunctionArgumentType"
            first += " (CSV values are text: CAST them, e.g. CAST(s._2 AS INT))"
    elif text.startswith(("Invalid Input Error", "IO Error")):
        code = {"csv": "CSVParsingError", "json": "JSONParsingError"}.get(
            kind, "ParquetParsingError"
        )
    return _invalid(code, first)


class Selection:
    """A select whose first rows are computed: iterate :meth:`chunks`, then read :attr:`stats`.

    Always :meth:`close` it (the scratch copy of the object goes then).
    """

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        reader: pa.RecordBatchReader,
        first: pa.RecordBatch | None,
        writer: RecordWriter,
        kind: str,
        scratch: Path,
        stats: SelectStats,
    ) -> None:
        self._connection = connection
        self._reader = reader
        self._first = first
        self._writer = writer
        self._kind = kind
        self._scratch = scratch
        self.stats = stats

    def chunks(self) -> Iterator[bytes]:
        """The output, about :data:`CHUNK_BYTES` at a time.

        Raises:
            ValidationError: Evaluation failed part-way (a cast of a later record …).
        """
        batch = self._first
        pending = b""
        while batch is not None:
            self._writer.write(batch)
            pending += self._writer.take()
            # a record may be split across chunks, as S3's Records events split them
            while len(pending) >= CHUNK_BYTES:
                yield self._count(pending[:CHUNK_BYTES])
                pending = pending[CHUNK_BYTES:]
            try:
                batch = self._reader.read_next_batch()
            except StopIteration:
                batch = None
            except (duckdb.Error, pa.ArrowException, OSError) as exc:
                raise _failure(exc, self._kind) from None
        if pending:
            yield self._count(pending)

    def _count(self, data: bytes) -> bytes:
        self.stats.bytes_returned += len(data)
        return data

    def close(self) -> None:
        """Close the connection and remove the scratch copy (safe to call twice)."""
        with contextlib.suppress(duckdb.Error):
            self._connection.close()
        shutil.rmtree(self._scratch, ignore_errors=True)


def _spool(
    lake: LakeService, ctx: RequestContext, bucket: str, key: str, spec: SelectRequest, path: Path
) -> tuple[int, int]:
    """Write the object's plain bytes to ``path``; returns (bytes scanned, bytes processed)."""
    _, _, _, chunks = lake.get_object(ctx, bucket, key)
    feed = _decompressor(spec.input_serialization.compression_type)
    scanned = processed = 0
    try:
        with path.open("wb") as out:
            for chunk in chunks:
                scanned += len(chunk)
                plain = feed(chunk)
                processed += len(plain)
                out.write(plain)
    finally:
        close_chunks(chunks)
    return scanned, processed


def select_object(
    lake: LakeService,
    ctx: RequestContext,
    bucket: str,
    key: str,
    spec: SelectRequest,
    scratch_dir: Path,
) -> Selection:
    """Run an S3 Select expression over one object.

    Args:
        lake: The lake the object is read through (access checks, decryption).
        spec: The expression and the input and output serializations.
        scratch_dir: Where the object's plain copy is kept while the select runs.

    Returns:
        The prepared :class:`Selection` (first rows computed).

    Raises:
        AccessDenied, NotFound: As GetObject would.
        ValidationError: A bad request or expression, with S3 Select's error code.
    """
    kind = _check(spec)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=scratch_dir, prefix="select-"))
    connection: duckdb.DuckDBPyConnection | None = None
    try:
        path = scratch / f"object.{kind}"
        scanned, processed = _spool(lake, ctx, bucket, key, spec, path)
        if spec.scan_range is not None:
            header = (
                kind == "csv"
                and (spec.input_serialization.csv or CsvInput()).file_header_info != "NONE"
            )
            cut = scratch / f"range.{kind}"
            processed = _cut(path, cut, spec, header)
            scanned = processed
            path = cut
        comment = (spec.input_serialization.csv or CsvInput()).comments
        if kind == "csv" and comment:
            kept = scratch / "rows.csv"
            _drop_comments(path, kept, comment.encode("utf-8"))
            path = kept
        connection = duckdb.connect(":memory:", config={"threads": 1})
        columns: list[str] | None = None
        if path.stat().st_size == 0:
            reader_sql = "(SELECT NULL AS _1 WHERE false)"
            columns = ["_1"] if kind == "csv" else None
        else:
            if kind == "csv":
                columns = _csv_columns(path, spec.input_serialization.csv or CsvInput())
            reader_sql = _reader_sql(kind, str(path), spec, columns)
        try:
            connection.execute(f"CREATE VIEW {SOURCE_VIEW} AS SELECT * FROM {reader_sql}")  # noqa: S608
            connection.execute(f"SET allowed_paths = [{_literal(str(path))}]")
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
        except duckdb.Error as exc:
            raise _failure(exc, kind) from None
        sql = translate(spec.expression, columns)
        try:
            reader = connection.sql(sql).to_arrow_reader(_BATCH_ROWS)
            try:
                first: pa.RecordBatch | None = reader.read_next_batch()
            except StopIteration:
                first = None
        except (duckdb.Error, pa.ArrowException, OSError) as exc:
            raise _failure(exc, kind) from None
        stats = SelectStats(bytes_scanned=scanned, bytes_processed=processed)
        return Selection(connection, reader, first, RecordWriter(spec), kind, scratch, stats)
    except BaseException:
        if connection is not None:
            connection.close()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
