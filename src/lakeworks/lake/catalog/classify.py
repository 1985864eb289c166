"""Classify one file and infer its schema, like Glue's built-in classifiers (pure logic).

Text files (plain or gzip) are read from a sample of their first bytes:

- **JSON lines**: every line an object; keys become columns (in order of first appearance).
- **CSV**: the delimiter is the one of ``,`` ``\\t`` ``|`` ``;`` ``\\x01`` that splits the
  sampled rows into the same number (at least two) of fields most consistently; fields quoted
  with ``"`` make the table use OpenCSVSerde. The first row is a header when all its values are
  strings and some later row holds a value that is not (Glue's rule).

Types are inferred per value (boolean, bigint, double, date, timestamp, string) and widened per
column (bigint+double → double, date+timestamp → timestamp, anything else → string). Parquet
files give their schema (read with pyarrow from the footer). What looks wrong — a ragged row, a
value that forces a column to string, a line that is not JSON — becomes an :class:`Issue`
naming the line.
"""

from __future__ import annotations

import csv
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Literal

import pyarrow.parquet as pq

from lakeworks.lake.catalog.formats import DataFormat
from lakeworks.lake.catalog.types import arrow_to_hive, infer_value, json_value_type, merge_types

__all__ = [
    "MAX_ISSUES_PER_FILE",
    "SAMPLE_BYTES",
    "FileSchema",
    "Issue",
    "classify_parquet",
    "classify_text",
    "is_parquet",
]

#: Bytes of (uncompressed) text sampled per file.
SAMPLE_BYTES = 1024 * 1024
#: Rows sampled per file for type inference.
SAMPLE_ROWS = 2000
MAX_ISSUES_PER_FILE = 20
_DELIMITERS = (",", "\t", "|", ";", "\x01")
_PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Issue:
    """Something noticed in a file, with the 1-based line it was found on."""

    severity: Literal["WARNING", "ERROR"]
    message: str
    line: int | None = None


@dataclass
class FileSchema:
    """What one file holds: its format, columns (name, Hive type) and what looked wrong.

    ``fmt`` is ``None`` when the file could not be classified (see ``issues``).
    """

    fmt: DataFormat | None
    columns: list[tuple[str, str]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    records: int = 0
    #: CSV only: the first row's values as column names (to spot a header in a file whose
    #: values are all strings, where Glue's rule cannot tell a header from data).
    first_row: list[str] = field(default_factory=list)

    @property
    def classification(self) -> str:
        """``csv``, ``json``, ``parquet`` or ``unknown``."""
        return self.fmt.kind if self.fmt else "unknown"


def is_parquet(head: bytes) -> bool:
    """Whether a file starts like Parquet."""
    return head[:4] == _PARQUET_MAGIC


def _decompress(head: bytes) -> tuple[bytes, bool, str]:
    """Inflate a gzip sample; returns (text bytes, whether the sample ended, compression)."""
    if head[:2] != b"\x1f\x8b":
        return head, False, "none"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(head, SAMPLE_BYTES)
    except zlib.error:
        return b"", False, "gzip"
    return data, inflater.eof, "gzip"


def classify_text(head: bytes, *, complete: bool) -> FileSchema:
    """Classify a text file from its first bytes.

    Args:
        head: The file's first bytes (all of it when ``complete``).
        complete: Whether ``head`` is the whole file, so the last line is whole.
    """
    data, ended, compression = _decompress(head)
    if compression == "gzip":
        complete = ended
    if not data.strip():
        return FileSchema(None, issues=[Issue("WARNING", "The file is empty")])
    if b"\x00" in data[:8192]:
        return FileSchema(None, issues=[Issue("ERROR", "The file is binary, not text")])
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    if not complete:
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut >= 0 else text
    first = text.lstrip()[:1]
    if first == "{":
        return _classify_json(text, compression)
    if first == "[":
        return FileSchema(
            None,
            issues=[Issue("ERROR", "A JSON array is not JSON lines (one object per line)", 1)],
        )
    return _classify_csv(text, compression)


# -- JSON lines ----------------------------------------------------------------------------


def _classify_json(text: str, compression: str) -> FileSchema:
    columns: dict[str, str | None] = {}
    issues: list[Issue] = []
    records = bad = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if records + bad >= SAMPLE_ROWS:
            break
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            value, why = None, f"not valid JSON ({exc.msg} at column {exc.colno})"
        except ValueError as exc:  # e.g. an integer too long to convert
            value, why = None, f"not valid JSON ({exc})"
        else:
            why = "not a JSON object"
        if not isinstance(value, dict):
            bad += 1
            _add(issues, Issue("ERROR", f"Line is {why}", number))
            continue
        records += 1
        for key, item in value.items():
            name = str(key).lower()
            found = json_value_type(item)
            if name not in columns:
                columns[name] = found
                continue
            merged = merge_types(columns[name], found)
            if merged is None:
                if columns[name] != "string":
                    _add(issues, _mixed(name, str(item), columns[name], number))
                merged = "string"
            columns[name] = merged
    if records == 0:
        return FileSchema(None, issues=issues or [Issue("ERROR", "No JSON objects found")])
    schema = [(name, type_ or "string") for name, type_ in columns.items()]
    return FileSchema(DataFormat("json", compression=compression), schema, issues, records)


# -- CSV -----------------------------------------------------------------------------------


def _rows(text: str, delimiter: str, quoted: bool) -> Iterator[tuple[int, list[str]]]:
    """Records with the line each starts on; a broken last record ends the sample."""
    reader = csv.reader(
        io.StringIO(text),
        delimiter=delimiter,
        quotechar='"',
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        strict=False,
    )
    line = 1
    try:
        for row in reader:
            if row and any(value.strip() for value in row):
                yield line, row
            line = reader.line_num + 1
    except csv.Error:
        return


def _is_quoted(text: str, delimiter: str) -> bool:
    return text.startswith('"') or f'{delimiter}"' in text or '\n"' in text


def _pick_delimiter(text: str) -> tuple[str, bool] | None:
    best: tuple[float, int, str, bool] | None = None
    for delimiter in _DELIMITERS:
        if delimiter not in text[:65536]:
            continue
        quoted = _is_quoted(text, delimiter)
        counts = [len(row) for _, row in _limited(_rows(text, delimiter, quoted), 200)]
        if not counts:
            continue
        modal = max(set(counts), key=counts.count)
        if modal < 2:
            continue
        score = (counts.count(modal) / len(counts), modal, delimiter, quoted)
        if best is None or score[:2] > best[:2]:
            best = score
    return None if best is None else (best[2], best[3])


def _limited(rows: Iterator[tuple[int, list[str]]], limit: int) -> Iterator[tuple[int, list[str]]]:
    for count, row in enumerate(rows):
        if count >= limit:
            return
        yield row


def _header_names(row: list[str]) -> list[str]:
    names: list[str] = []
    for index, raw in enumerate(row):
        name = raw.strip().lower() or f"col{index}"
        base, suffix = name, 1
        while name in names:
            name = f"{base}_{suffix}"
            suffix += 1
        names.append(name)
    return names


def _classify_csv(text: str, compression: str) -> FileSchema:
    picked = _pick_delimiter(text)
    if picked is None:
        return FileSchema(
            None,
            issues=[
                Issue(
                    "ERROR",
                    "Not JSON lines, and no delimiter (, tab | ; \\x01) splits the rows into "
                    "two or more columns",
                    1,
                )
            ],
        )
    delimiter, quoted = picked
    rows = list(_limited(_rows(text, delimiter, quoted), SAMPLE_ROWS + 1))
    _, first = rows[0]
    width = max(set(len(r) for _, r in rows), key=[len(r) for _, r in rows].count)
    kinds = [[infer_value(v) for v in row] for _, row in rows]
    header = (
        len(first) == width
        and all(k == "string" for k in kinds[0])
        and any(k not in (None, "string") for ks in kinds[1:] for k in ks)
    )
    names = _header_names(first) if header else [f"col{i}" for i in range(width)]
    names += [f"col{i}" for i in range(len(names), width)]
    types: list[str | None] = [None] * width
    issues: list[Issue] = []
    body = list(zip(rows[1:], kinds[1:], strict=True) if header else zip(rows, kinds, strict=True))
    for (line, row), row_kinds in body:
        if len(row) != width:
            _add(
                issues,
                Issue("WARNING", f"Row has {len(row)} fields; the table has {width} columns", line),
            )
        for index, (value, kind) in enumerate(zip(row[:width], row_kinds[:width], strict=True)):
            merged = merge_types(types[index], kind)
            if merged is None:
                if types[index] != "string":
                    _add(issues, _mixed(names[index], value, types[index], line))
                merged = "string"
            types[index] = merged
    fmt = DataFormat(
        "csv",
        delimiter=delimiter,
        quote='"' if quoted else None,
        header_lines=1 if header else 0,
        compression=compression,
    )
    columns = [(name, type_ or "string") for name, type_ in zip(names, types, strict=True)]
    return FileSchema(fmt, columns, issues, len(body), _header_names(first))


def _mixed(column: str, value: str, was: str | None, line: int) -> Issue:
    shown = value if len(value) <= 40 else value[:37] + "..."
    return Issue(
        "WARNING",
        f"Column {column!r}: value {shown!r} is not {was}; the column is typed string",
        line,
    )


def _add(issues: list[Issue], issue: Issue) -> None:
    if len(issues) < MAX_ISSUES_PER_FILE:
        issues.append(issue)


# -- Parquet -------------------------------------------------------------------------------


def classify_parquet(source: IO[bytes]) -> FileSchema:
    """Read a Parquet file's schema and row count from its footer.

    Args:
        source: A seekable binary file (only the footer is read).
    """
    try:
        parquet = pq.ParquetFile(source)
    except Exception as exc:
        return FileSchema(None, issues=[Issue("ERROR", f"Not a readable Parquet file: {exc}")])
    schema = parquet.schema_arrow
    columns = [(f.name.lower(), arrow_to_hive(f.type)) for f in schema]
    return FileSchema(DataFormat("parquet"), columns, [], parquet.metadata.num_rows)
