"""Batch transform's record handling, as pure functions: split, batch, filter, join, assemble.

SageMaker batch transform cuts every input object into records (``SplitType``), packs them
into mini-batches (``BatchStrategy`` with ``MaxPayloadInMB``), sends each mini-batch to the
model, and writes the answers to ``<input-key>.out`` (``AssembleWith``). ``DataProcessing``
filters each input record (``InputFilter``), joins it to its answer (``JoinSource: Input``) and
filters the joined record (``OutputFilter``) with a JSONPath subset (:func:`compile_path`).

Record framings:

* ``Line``: one record per line (a trailing ``\\r`` is dropped; empty lines are skipped).
* ``RecordIO``: MXNet RecordIO frames (magic ``0xced7230a``, length, payload padded to 4 bytes),
  each kept whole so the model reads valid RecordIO; multi-part records stay together.
* ``TFRecord``: ``uint64 length, uint32 crc, data, uint32 crc`` frames, kept whole.
* ``None``: the whole object is one record.
"""

from __future__ import annotations

import csv
import io
import json
import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from lakeworks.core.errors import ValidationError

__all__ = [
    "FORMATS",
    "MB",
    "Batch",
    "RecordError",
    "assemble",
    "batches",
    "compile_path",
    "filter_record",
    "join_record",
    "line_batches",
    "payload",
    "plain_lines",
    "split_records",
    "split_response",
]

MB = 1024 * 1024
_RECORDIO_MAGIC = 0xCED7230A
#: Content types whose records the filters and the join understand.
FORMATS = {
    "text/csv": "csv",
    "application/json": "json",
    "application/jsonlines": "jsonl",
    "application/x-jsonlines": "jsonl",
}


class RecordError(Exception):
    """An input or an answer that batch transform cannot process (the job fails with it)."""


# -- splitting ----------------------------------------------------------------------------------


def _split_recordio(data: bytes) -> list[bytes]:
    records: list[bytes] = []
    offset, start, pending = 0, 0, False
    while offset < len(data):
        if len(data) - offset < 8:
            raise RecordError(f"RecordIO: {len(data) - offset} stray bytes at byte {offset}")
        magic, header = struct.unpack_from("<II", data, offset)
        if magic != _RECORDIO_MAGIC:
            raise RecordError(f"RecordIO: no record magic at byte {offset}")
        length, flag = header & ((1 << 29) - 1), header >> 29
        end = offset + 8 + length + (-length % 4)
        if end > len(data):
            raise RecordError(f"RecordIO: the record at byte {offset} is cut short")
        if not pending:
            start = offset
        pending = flag in (1, 2)  # start or middle of a multi-part record
        offset = end
        if not pending:
            records.append(data[start:end])
    if pending:
        raise RecordError("RecordIO: the last multi-part record has no end part")
    return records


def _split_tfrecord(data: bytes) -> list[bytes]:
    records: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 12:
            raise RecordError(f"TFRecord: {len(data) - offset} stray bytes at byte {offset}")
        (length,) = struct.unpack_from("<Q", data, offset)
        end = offset + 12 + length + 4
        if end > len(data):
            raise RecordError(f"TFRecord: the record at byte {offset} is cut short")
        records.append(data[offset:end])
        offset = end
    return records


def split_records(data: bytes, split_type: str) -> list[bytes]:
    """Cut one input object into records.

    Raises:
        RecordError: Framing that does not parse (names the byte offset).
    """
    if split_type == "Line":
        return [line.rstrip(b"\r") for line in data.split(b"\n") if line.strip()]
    if split_type == "RecordIO":
        return _split_recordio(data)
    if split_type == "TFRecord":
        return _split_tfrecord(data)
    return [data] if data else []


def payload(records: list[bytes], split_type: str) -> bytes:
    """The request body of a mini-batch: lines joined by newlines, frames concatenated."""
    return b"\n".join(records) if split_type == "Line" else b"".join(records)


def _too_large(index: int, source: str, size: int, max_bytes: int) -> RecordError:
    return RecordError(
        f"Record {index + 1} of {source} is {size} bytes, larger than MaxPayloadInMB "
        f"({max_bytes // MB} MB = {max_bytes} bytes); raise MaxPayloadInMB or split the input "
        "into smaller records"
    )


def plain_lines(data: bytes) -> bool:
    """Whether ``data`` is lines with no blank line and no carriage return (so
    :func:`line_batches` may cut it without splitting it into records first)."""
    return b"\r" not in data and b"\n\n" not in data and not data.startswith(b"\n")


def line_batches(data: bytes, max_bytes: int, source: str) -> Iterator[tuple[int, int, bytes]]:
    """MultiRecord mini-batches of ``plain_lines`` data, cut at newlines straight from the bytes.

    The same batches :func:`batches` makes of the lines, without a copy per record.

    Yields:
        ``(first record, record count, body)``.

    Raises:
        RecordError: A line longer than ``max_bytes`` (names the record and its size).
    """
    data = data.rstrip(b"\n")
    size, position, record = len(data), 0, 0
    while position < size:
        stop = size
        if max_bytes and size - position > max_bytes:
            stop = data.rfind(b"\n", position, position + max_bytes + 1)
            if stop < position:
                end = data.find(b"\n", position)
                length = (size if end < 0 else end) - position
                raise _too_large(record, source, length, max_bytes)
        body = data[position:stop]
        count = body.count(b"\n") + 1
        yield record, count, body
        record += count
        position = stop + 1


@dataclass(frozen=True)
class Batch:
    """Records ``start`` (0-based) up to ``stop`` of one input object."""

    start: int
    stop: int


def batches(
    sizes: list[int], strategy: str, max_bytes: int, split_type: str, source: str
) -> Iterator[Batch]:
    """Pack records of the given sizes into mini-batches of at most ``max_bytes`` each.

    ``max_bytes`` 0 means no limit. ``SingleRecord`` sends one record per request.

    Raises:
        RecordError: A record larger than ``max_bytes`` (names the record and its size).
    """
    separator = 1 if split_type == "Line" else 0
    start, used = 0, 0
    for index, size in enumerate(sizes):
        if max_bytes and size > max_bytes:
            raise _too_large(index, source, size, max_bytes)
        if strategy == "SingleRecord":
            yield Batch(index, index + 1)
            continue
        extra = size + (separator if index > start else 0)
        if index > start and max_bytes and used + extra > max_bytes:
            yield Batch(start, index)
            start, extra = index, size
            used = 0
        used += extra
    if strategy != "SingleRecord" and start < len(sizes):
        yield Batch(start, len(sizes))


# -- JSONPath -----------------------------------------------------------------------------------

_PATH_HELP = (
    "use a JSONPath such as $, $[1:], $[0,2], $[-1], $.features, $['id'], $.data[0:3] or "
    "$.SageMakerOutput"
)
_SEGMENT = re.compile(
    r"""\.(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
      | \.(?P<star>\*)
      | \[(?P<index>[^\]]*)\]""",
    re.VERBOSE,
)
_SLICE = re.compile(r"^\s*(-?\d+)?\s*:\s*(-?\d+)?\s*$")
_INT = re.compile(r"^\s*-?\d+\s*$")
_QUOTED = re.compile(r"""^\s*(?:'([^']*)'|"([^"]*)")\s*$""")

Step = Callable[[Any], Any]


def _select(value: Any, key: Any, expression: str) -> Any:
    try:
        return value[key]
    except (KeyError, IndexError, TypeError):
        raise RecordError(f"{expression}: {key!r} is not in the record") from None


def _step(text: str, expression: str) -> Step:
    """One bracket: an index, a slice, ``*`` or a union of indices / quoted names."""
    text = text.strip()
    if text == "*":
        return lambda v: list(v.values()) if isinstance(v, dict) else list(v)
    sliced = _SLICE.match(text)
    if sliced:
        low = int(sliced.group(1)) if sliced.group(1) else None
        high = int(sliced.group(2)) if sliced.group(2) else None

        def take(v: Any) -> Any:
            if not isinstance(v, list):
                raise RecordError(f"{expression}: a slice needs an array, got {type(v).__name__}")
            return v[low:high]

        return take
    keys: list[Any] = []
    for part in text.split(","):
        quoted = _QUOTED.match(part)
        if quoted:
            keys.append(quoted.group(1) if quoted.group(1) is not None else quoted.group(2))
        elif _INT.match(part):
            keys.append(int(part))
        else:
            raise ValidationError(f"Invalid JSONPath {expression!r} at [{text}]: {_PATH_HELP}")
    if len(keys) == 1:
        return lambda v: _select(v, keys[0], expression)
    return lambda v: [_select(v, k, expression) for k in keys]


def compile_path(expression: str) -> Step:
    """Compile a JSONPath of the subset SageMaker's filters use into a function.

    Supported: ``$`` alone, then any of ``.name``, ``.*``, ``['name']``, ``[n]`` (negative
    counts from the end), ``[a:b]`` slices, ``[a,b,…]`` / ``['x','y']`` unions and ``[*]``.

    Raises:
        ValidationError: Syntax outside that subset (the message shows what is allowed).
    """
    text = expression.strip()
    if not text.startswith("$"):
        raise ValidationError(
            f"Invalid JSONPath {expression!r}: it must start with '$'; {_PATH_HELP}"
        )
    steps: list[Step] = []
    position = 1
    while position < len(text):
        match = _SEGMENT.match(text, position)
        if match is None:
            raise ValidationError(
                f"Invalid JSONPath {expression!r} at position {position}: {_PATH_HELP}"
            )
        if match.group("name"):
            steps.append(_step(f"'{match.group('name')}'", expression))
        elif match.group("star"):
            steps.append(_step("*", expression))
        else:
            steps.append(_step(match.group("index"), expression))
        position = match.end()

    def apply(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return apply


# -- records as values --------------------------------------------------------------------------


def _parse(record: bytes, fmt: str, what: str) -> Any:
    if fmt == "csv":
        text = record.decode("utf-8").rstrip("\r\n")
        rows = list(csv.reader([text]))
        return rows[0] if rows else []
    try:
        return json.loads(record)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError(f"{what} is not JSON: {exc}") from None


def _render(value: Any, fmt: str) -> bytes:
    if fmt == "csv":
        items = value if isinstance(value, list) else [value]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="")
        writer.writerow([json.dumps(v) if isinstance(v, dict | list) else v for v in items])
        return out.getvalue().encode()
    return json.dumps(value, separators=(",", ":")).encode()


def filter_record(record: bytes, fmt: str, path: Step, what: str) -> bytes:
    """Apply a compiled JSONPath to one record (a CSV row is an array of its fields).

    Raises:
        RecordError: The record does not parse, or lacks what the path selects.
    """
    try:
        return _render(path(_parse(record, fmt, what)), fmt)
    except RecordError as exc:
        raise RecordError(f"{what}: {exc}") from None


def join_record(source: bytes, answer: bytes, in_fmt: str, out_fmt: str, what: str) -> bytes:
    """``JoinSource: Input``: the input record with the model's answer for it.

    CSV input: the answer's fields appended to the row. JSON input: an object gets the answer
    under ``SageMakerOutput``; an array gets it appended.
    """
    if in_fmt == "csv":
        fields = _parse(source, "csv", what)
        extra = _parse(answer, "csv", what) if out_fmt == "csv" else [_parse(answer, "json", what)]
        return _render(fields + extra, "csv")
    value = _parse(source, "json", what)
    output = _parse(answer, out_fmt, what)
    if isinstance(output, list) and out_fmt == "csv" and len(output) == 1:
        output = output[0]
    if isinstance(value, dict):
        value["SageMakerOutput"] = output
    elif isinstance(value, list):
        value.append(output)
    else:
        value = [value, output]
    return _render(value, "json")


def split_response(body: bytes, out_fmt: str | None, count: int, what: str) -> list[bytes]:
    """Cut a mini-batch's answer into one answer per record (for the join and OutputFilter).

    CSV and JSON Lines answers have a line per record; a JSON answer is an array, or an object
    holding one array (``{"predictions": [...]}``), of one item per record.

    Raises:
        RecordError: The answer does not hold ``count`` records.
    """
    if count == 1 and out_fmt != "json":
        return [body.rstrip(b"\r\n")]
    if out_fmt == "json":
        value = _parse(body, "json", what)
        if isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if count == 1 and not (isinstance(value, list) and len(value) == 1):
            return [body.strip()]
        if isinstance(value, list) and len(value) == count:
            return [_render(item, "json") for item in value]
        raise RecordError(
            f"{what}: the model answered a JSON value that is not a list of {count} records; "
            "join and OutputFilter need one answer per record"
        )
    lines = [line.rstrip(b"\r") for line in body.split(b"\n") if line.strip()]
    if len(lines) == count:
        return lines
    if count > 1 and len(lines) == 1 and out_fmt == "csv" and lines[0].count(b",") == count - 1:
        return lines[0].split(b",")  # a container that comma-joins one value per record
    raise RecordError(
        f"{what}: the model answered {len(lines)} lines for {count} records; join and "
        "OutputFilter need one answer line per record"
    )


def assemble(parts: list[bytes], assemble_with: str) -> bytes:
    """The ``.out`` object: parts each followed by a newline (``Line``), or simply concatenated."""
    if assemble_with == "Line":
        return b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts)
    return b"".join(parts)
