"""Request and response bodies of the content types SageMaker's containers speak.

Inputs (to a 2-D array of rows, or CSR for sparse RecordIO/libsvm):

=================================  =========================================================
``text/csv``                       rows of numbers, no header, no label; empty cells are NaN
``application/json``               ``{"instances": [[...], {"features": [...]}, ...]}``, a list
                                   of rows, one row, or ``{"features": [...]}`` (1P algorithms'
                                   forms, sparse ``{"data": {"features": {"keys", "values",
                                   "shape"}}}`` included)
``application/jsonlines``          one row per line, in any JSON row form
``application/x-npy``              a NumPy ``.npy`` array (never unpickled), 1-D is one row
``application/x-recordio-protobuf`` RecordIO-wrapped ``Record`` messages
``text/libsvm``                    ``label idx:value ...`` (XGBoost)
=================================  =========================================================

Outputs (from the per-row records the built-in algorithms produce, ``{"score": 0.7}`` …):
``application/json`` → ``{"predictions": [records]}``; ``application/jsonlines`` → one record
per line; ``text/csv`` → one line per row, the record's values comma-joined;
``application/x-recordio-protobuf`` → one ``Record`` per row with the values under ``label``.

Every malformed body is a 4xx :class:`~lakeworks.core.errors.LakeworksError` naming the row,
column or field at fault.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import UnsupportedMediaType, ValidationError

__all__ = [
    "CSV",
    "JSON",
    "JSONLINES",
    "LIBSVM",
    "NPY",
    "RECORDIO",
    "decode_csv",
    "decode_features",
    "encode_array",
    "encode_records",
    "media_type",
    "pick_accept",
]

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
NPY = "application/x-npy"
RECORDIO = "application/x-recordio-protobuf"
LIBSVM = "text/libsvm"
#: Bodies with more rows than this are parsed by numpy's C reader first.
_BULK_ROWS = 64
_ALIASES = {"application/json-lines": JSONLINES, "application/x-jsonlines": JSONLINES}


def media_type(value: str | None) -> str:
    """The bare media type of a Content-Type/Accept value (parameters dropped, lower-case)."""
    if not value:
        return ""
    bare = value.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def pick_accept(accept: str | None, supported: Sequence[str], default: str) -> str:
    """The response type for an ``Accept`` value: the first listed type that is supported.

    ``*/*`` or no Accept gives ``default``.

    Raises:
        UnsupportedMediaType: None of the listed types is supported.
    """
    if not accept or not accept.strip():
        return default
    listed = [media_type(part) for part in accept.split(",")]
    for item in listed:
        if item in ("*/*", ""):
            return default
        if item in supported:
            return item
    raise UnsupportedMediaType(
        f"Accept {accept!r} is not supported; this model answers {', '.join(supported)}"
    )


# -- inputs -------------------------------------------------------------------------------------


def _bad_cell(lines: list[bytes]) -> ValidationError:
    for row, line in enumerate(lines, start=1):
        for column, cell in enumerate(line.split(b","), start=1):
            text = cell.strip()
            if not text:
                continue
            try:
                float(text)
            except ValueError:
                shown = text[:40].decode("utf-8", "replace")
                return ValidationError(
                    f"CSV row {row}, column {column}: {shown!r} is not a number (send rows of "
                    "numbers without a header or label)"
                )
    return ValidationError("The CSV body cannot be read as rows of numbers")


def decode_csv(body: bytes, *, dtype: type[np.floating[Any]] = np.float64) -> np.ndarray:
    """Rows of comma-separated numbers → a 2-D array; empty cells become NaN.

    Raises:
        ValidationError: No rows, rows of different widths, or a cell that is not a number.
    """
    if body.count(b"\n") > _BULK_ROWS:
        try:  # numpy's C reader: several times faster on the big bodies of batch transform
            return np.loadtxt(io.BytesIO(body), delimiter=",", dtype=dtype, ndmin=2, comments=None)
        except ValueError:
            pass  # empty cells (NaN), ragged rows or a bad cell: the path below names them
    lines = [line for line in body.replace(b"\r", b"").split(b"\n") if line.strip()]
    if not lines:
        raise ValidationError("The CSV body holds no rows")
    width = lines[0].count(b",") + 1
    for number, line in enumerate(lines, start=1):
        if line.count(b",") + 1 != width:
            raise ValidationError(
                f"CSV row {number} has {line.count(b',') + 1} values, but row 1 has {width}; "
                "every row needs the same number of features"
            )
    try:
        if len(lines) == 1:
            values = [float(cell) if cell.strip() else math.nan for cell in lines[0].split(b",")]
            return np.array([values], dtype=dtype)
        cells = b",".join(lines).split(b",")
        flat = [float(cell) if cell.strip() else math.nan for cell in cells]
        return np.array(flat, dtype=dtype).reshape(len(lines), width)
    except ValueError:
        raise _bad_cell(lines) from None


def _json_row(item: Any, where: str) -> Any:
    """One row of a JSON body: a list of numbers, or a 1P ``features``/``data`` object."""
    if isinstance(item, dict):
        if "features" in item:
            return _json_row(item["features"], where)
        data = item.get("data")
        if isinstance(data, dict) and isinstance(data.get("features"), dict):
            sparse = data["features"]
            values = sparse.get("values")
            keys = sparse.get("keys")
            shape = sparse.get("shape")
            if keys is None:
                return _json_row(values, where)
            if not (isinstance(shape, list) and len(shape) == 1 and isinstance(shape[0], int)):
                raise ValidationError(f"{where}: a sparse row needs 'shape': [width]")
            return ("sparse", keys, values, shape[0])
        raise ValidationError(
            f"{where}: expected a list of numbers or an object with 'features' (or "
            "'data': {'features': {...}})"
        )
    if isinstance(item, list) and all(
        (isinstance(v, int | float) and not isinstance(v, bool)) or v is None for v in item
    ):
        return [math.nan if v is None else v for v in item]
    raise ValidationError(f"{where}: expected a list of numbers")


def _rows_to_array(rows: list[Any], what: str) -> np.ndarray | sp.csr_matrix:
    if not rows:
        raise ValidationError(f"The {what} body holds no rows")
    if any(isinstance(row, tuple) for row in rows):
        width = max(row[3] if isinstance(row, tuple) else len(row) for row in rows)
        data, indices, indptr = [], [], [0]
        for number, row in enumerate(rows, start=1):
            if isinstance(row, tuple):
                _, keys, values, _ = row
                if not isinstance(keys, list) or not isinstance(values, list):
                    raise ValidationError(f"{what} row {number}: keys and values must be lists")
                if len(keys) != len(values) or any(
                    not isinstance(k, int) or not 0 <= k < width for k in keys
                ):
                    raise ValidationError(
                        f"{what} row {number}: keys must be column numbers below {width}, one "
                        "per value"
                    )
                indices.extend(keys)
                data.extend(values)
            else:
                indices.extend(range(len(row)))
                data.extend(row)
            indptr.append(len(data))
        try:
            return sp.csr_matrix(
                (np.asarray(data, dtype=np.float64), indices, indptr), shape=(len(rows), width)
            )
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"The {what} body holds a value that is not a number") from exc
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        first = len(rows[0])
        bad = next(i for i, row in enumerate(rows, start=1) if len(row) != first)
        raise ValidationError(
            f"{what} row {bad} has {len(rows[bad - 1])} values, but row 1 has {first}; every "
            "row needs the same number of features"
        )
    return np.asarray(rows, dtype=np.float64)


def _decode_json(body: bytes) -> np.ndarray | sp.csr_matrix:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(f"The body is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "instances" in data:
        items = data["instances"]
        if not isinstance(items, list):
            raise ValidationError("'instances' must be a list of rows")
    elif isinstance(data, dict):
        items = [data]
    elif isinstance(data, list) and data and all(isinstance(v, list | dict) for v in data):
        items = data
    else:
        items = [data]
    rows = [_json_row(item, f"JSON instance {n}") for n, item in enumerate(items, start=1)]
    return _rows_to_array(rows, "JSON")


def _decode_jsonlines(body: bytes) -> np.ndarray | sp.csr_matrix:
    rows = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError(f"JSON Lines line {number} is not valid JSON: {exc}") from None
        rows.append(_json_row(item, f"JSON Lines line {number}"))
    return _rows_to_array(rows, "JSON Lines")


def _decode_npy(body: bytes) -> np.ndarray:
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValidationError(
            f"The body is not a NumPy .npy array without objects: {exc}"
        ) from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise ValidationError("The .npy array must hold numbers")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise ValidationError(f"The .npy array must be 1-D or 2-D, not {array.ndim}-D")
    return np.asarray(array, dtype=np.float64)


def _decode_recordio(body: bytes) -> np.ndarray | sp.csr_matrix:
    from lakeworks.training.formats.recordio_protobuf import read_recordio_protobuf

    data = read_recordio_protobuf(body, source="the request body", label_size=0)
    if data is None:
        raise ValidationError("The RecordIO-protobuf body holds no records")
    features: np.ndarray | sp.csr_matrix = data.features
    return features


def _decode_libsvm(body: bytes) -> np.ndarray | sp.csr_matrix:
    from lakeworks.training.formats.libsvm import read_libsvm

    data = read_libsvm(body, source="the request body")
    if data is None:
        raise ValidationError("The libsvm body holds no rows")
    features: np.ndarray | sp.csr_matrix = data.features
    return features


_DECODERS = {
    CSV: lambda body: decode_csv(body),
    JSON: _decode_json,
    JSONLINES: _decode_jsonlines,
    NPY: _decode_npy,
    RECORDIO: _decode_recordio,
    LIBSVM: _decode_libsvm,
}


def decode_features(
    body: bytes, content_type: str | None, supported: Sequence[str]
) -> np.ndarray | sp.csr_matrix:
    """Decode a request body of ``content_type`` (one of ``supported``) into rows.

    Raises:
        UnsupportedMediaType: A content type the model does not read.
        ValidationError: A malformed body.
    """
    kind = media_type(content_type) or CSV
    if kind not in supported or kind not in _DECODERS:
        raise UnsupportedMediaType(
            f"Content type {content_type!r} is not supported; this model reads "
            f"{', '.join(supported)}"
        )
    result: np.ndarray | sp.csr_matrix = _DECODERS[kind](body)
    return result


# -- outputs ------------------------------------------------------------------------------------


def _csv_value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_csv_value(v) for v in value)
    return str(value)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _record_bytes(record: dict[str, Any]) -> bytes:
    """One ``Record`` with each entry under ``label`` as a Float32Tensor (as 1P algorithms)."""
    payload = b""
    for name, value in record.items():
        values = np.asarray(value, dtype="<f4").ravel()
        tensor = _field(1, values.tobytes())  # packed floats
        entry = _field(1, name.encode()) + _field(2, _field(2, tensor))
        payload += _field(2, entry)
    header = len(payload) | (0 << 29)
    padding = b"\x00" * (-len(payload) % 4)
    return np.array([0xCED7230A, header], dtype="<u4").tobytes() + payload + padding


def encode_records(records: list[dict[str, Any]], accept: str) -> bytes:
    """Serialise per-row records in the response format ``accept`` names.

    Raises:
        UnsupportedMediaType: A type with no record encoding.
    """
    if accept == JSON:
        return json.dumps({"predictions": records}).encode()
    if accept == JSONLINES:
        return "\n".join(json.dumps(record) for record in records).encode()
    if accept == CSV:
        return "\n".join(
            ",".join(_csv_value(v) for v in record.values()) for record in records
        ).encode()
    if accept == RECORDIO:
        return b"".join(_record_bytes(record) for record in records)
    raise UnsupportedMediaType(
        f"Accept {accept!r} is not supported; supported: {JSON}, {JSONLINES}, {CSV}, {RECORDIO}"
    )


def encode_array(prediction: Any, accept: str) -> bytes:
    """Serialise a prediction (array, list, scalar) as script-mode containers do by default.

    Raises:
        UnsupportedMediaType: Not JSON, CSV or NPY.
    """
    array = np.asarray(prediction)
    if accept == JSON:
        return json.dumps(array.tolist()).encode()
    if accept == CSV:
        rows = array.reshape(-1, 1) if array.ndim <= 1 else array.reshape(array.shape[0], -1)
        return "\n".join(",".join(str(v) for v in row) for row in rows.tolist()).encode()
    if accept == NPY:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        return buffer.getvalue()
    raise UnsupportedMediaType(
        f"Accept {accept!r} is not supported by the default output_fn; supported: {JSON}, "
        f"{CSV}, {NPY} (define output_fn in inference.py for others)"
    )
