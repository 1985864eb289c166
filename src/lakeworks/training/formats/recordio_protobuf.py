"""``application/x-recordio-protobuf``: AWS's RecordIO-wrapped ``aialgs.data.Record`` messages.

This is what ``sagemaker.amazon.common.write_numpy_to_dense_tensor`` and
``write_spmatrix_to_sparse_tensor`` write, decoded and encoded by hand (no protobuf runtime).

**Framing** (MXNet/dmlc RecordIO), little-endian, for every record::

    uint32 magic = 0xced7230a
    uint32 lrec  = cflag << 29 | length     # cflag 0: whole record; 1/2/3: first/middle/last part
    length bytes of payload, then zero padding to a multiple of 4

A writer that finds the magic word at a 4-byte-aligned offset inside a payload splits the record
there (cflag 1, 2 … 3); the reader joins the parts and puts the magic word back between them.

**Messages** (proto2, package ``aialgs.data``)::

    Record        { map<string, Value> features = 1; map<string, Value> label = 2;
                    string uid = 3; string metadata = 4; string configuration = 5; }
    Value         { oneof { Float32Tensor float32_tensor = 2; Float64Tensor float64_tensor = 3;
                            Int32Tensor int32_tensor = 7; Bytes bytes = 9; } }
    *Tensor       { repeated <float|double|int32> values = 1 [packed];
                    repeated uint64 keys = 2 [packed]; repeated uint64 shape = 3 [packed]; }

A map entry is a message ``{string key = 1; Value value = 2}``. The features live under the key
``values``: dense when ``keys`` is empty, else sparse with ``shape`` giving the width. The label is
``label["values"]``'s first value. Readers accept packed and unpacked repeated fields, as any
protobuf parser must.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats.dataset import Dataset

__all__ = [
    "MAGIC",
    "Tensor",
    "decode_record",
    "encode_record",
    "iter_recordio",
    "read_recordio_protobuf",
    "write_numpy_to_dense_tensor",
    "write_recordio",
    "write_spmatrix_to_sparse_tensor",
]

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_FLOAT32, _FLOAT64, _INT32, _BYTES = 2, 3, 7, 9
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


class _Malformed(Exception):
    """A protobuf decoding problem; becomes a ValidationError naming the record."""


# ---------------------------------------------------------------------------------------------
# RecordIO framing


def _align(length: int) -> int:
    return (length + 3) & ~3


def iter_recordio(data: bytes, *, source: str = "<data>") -> Iterator[bytes]:
    """Yield the payloads of the RecordIO records in ``data`` (multi-part records joined).

    Raises:
        ValidationError: A bad magic word or a truncated record, with its byte offset.
    """
    position = 0
    parts: list[bytes] = []
    while position < len(data):
        magic = struct.unpack("<I", data[position : position + 4].ljust(4, b"\x00"))[0]
        if magic != MAGIC:
            raise ValidationError(
                f"{source} byte {position}: not a RecordIO record (magic 0x{magic:08x}, "
                f"expected 0x{MAGIC:08x}); is the content type right?"
            )
        if position + 8 > len(data):
            raise ValidationError(f"{source} byte {position}: truncated RecordIO header")
        lrec = struct.unpack_from("<I", data, position + 4)[0]
        cflag, length = lrec >> 29, lrec & _LENGTH_MASK
        start = position + 8
        if start + length > len(data):
            raise ValidationError(f"{source} byte {position}: truncated RecordIO record")
        parts.append(data[start : start + length])
        position = start + _align(length)
        if cflag in (0, 3):
            yield _MAGIC_BYTES.join(parts)
            parts = []
        elif cflag not in (1, 2):
            raise ValidationError(f"{source} byte {position}: invalid RecordIO flag {cflag}")
    if parts:
        raise ValidationError(f"{source}: the last RecordIO record is incomplete")


def _frame(cflag: int, payload: bytes) -> bytes:
    header = struct.pack("<II", MAGIC, (cflag << 29) | len(payload))
    return header + payload + b"\x00" * (_align(len(payload)) - len(payload))


def write_recordio(out: BinaryIO, payload: bytes) -> None:
    """Write one record, split where the magic word appears (as dmlc's writer does)."""
    if len(payload) >= 1 << 29:
        raise ValueError("RecordIO records must be shorter than 2**29 bytes")
    start = 0
    for offset in range(0, len(payload) - len(payload) % 4, 4):
        if payload[offset : offset + 4] == _MAGIC_BYTES:
            out.write(_frame(1 if start == 0 else 2, payload[start:offset]))
            start = offset + 4
    out.write(_frame(3 if start else 0, payload[start:]))


# ---------------------------------------------------------------------------------------------
# Protobuf wire format


def _varint(buf: bytes, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if position >= len(buf):
            raise _Malformed("truncated varint")
        byte = buf[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
        if shift > 63:
            raise _Malformed("varint longer than 10 bytes")


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)``; varints as int, the rest as bytes."""
    position = 0
    while position < len(buf):
        key, position = _varint(buf, position)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == _VARINT:
            value, position = _varint(buf, position)
        elif wire == _FIXED64:
            value, position = buf[position : position + 8], position + 8
        elif wire == _FIXED32:
            value, position = buf[position : position + 4], position + 4
        elif wire == _LEN:
            length, position = _varint(buf, position)
            value, position = buf[position : position + length], position + length
        else:
            raise _Malformed(f"unsupported wire type {wire} (field {number})")
        if position > len(buf):
            raise _Malformed(f"field {number} runs past the end of its message")
        yield number, wire, value


def _varints(buf: bytes) -> list[int]:
    values, position = [], 0
    while position < len(buf):
        value, position = _varint(buf, position)
        values.append(value)
    return values


def _signed32(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class Tensor:
    """A decoded Float32/Float64/Int32 tensor: dense when ``keys`` is None."""

    values: np.ndarray
    keys: np.ndarray | None
    shape: tuple[int, ...]


def _decode_tensor(buf: bytes, kind: int) -> Tensor:
    chunks: list[np.ndarray] = []
    keys: list[int] = []
    shape: list[int] = []
    width = {_FLOAT32: "<f4", _FLOAT64: "<f8"}.get(kind)
    for number, _wire, value in _fields(buf):
        if number == 1:
            if kind == _INT32:
                ints = _varints(value) if isinstance(value, bytes) else [value]
                chunks.append(np.asarray([_signed32(v) for v in ints], dtype=np.float64))
            elif isinstance(value, bytes) and width is not None:
                if len(value) % np.dtype(width).itemsize:
                    raise _Malformed("packed tensor values have a partial element")
                chunks.append(np.frombuffer(value, dtype=width).astype(np.float64))
            else:
                raise _Malformed("tensor values have the wrong wire type")
        elif number in (2, 3):
            target = keys if number == 2 else shape
            target.extend(_varints(value) if isinstance(value, bytes) else [value])
    values = np.concatenate(chunks) if chunks else np.empty(0, dtype=np.float64)
    key_array = np.asarray(keys, dtype=np.int64) if keys else None
    if key_array is None and shape and values.size == 0 and int(np.prod(shape)) > 0:
        # An empty row of a sparse matrix: a shape and neither keys nor values.
        key_array = np.empty(0, dtype=np.int64)
    if key_array is not None and key_array.size != values.size:
        raise _Malformed(f"{key_array.size} keys but {values.size} values")
    return Tensor(values, key_array, tuple(shape))


def _decode_value(buf: bytes) -> Tensor | None:
    for number, _wire, value in _fields(buf):
        if number in (_FLOAT32, _FLOAT64, _INT32) and isinstance(value, bytes):
            return _decode_tensor(value, number)
        if number == _BYTES:
            raise _Malformed("a Bytes value (raw bytes such as images) is not numeric data")
    return None


def _decode_map(buf: bytes) -> tuple[str, Tensor | None]:
    key, tensor = "", None
    for number, _wire, value in _fields(buf):
        if number == 1 and isinstance(value, bytes):
            key = value.decode("utf-8", errors="replace")
        elif number == 2 and isinstance(value, bytes):
            tensor = _decode_value(value)
    return key, tensor


def decode_record(payload: bytes) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """Decode one ``Record``: ``(features, label)`` maps of name → tensor.

    Raises:
        ValueError: Malformed protobuf (callers add the file and record number).
    """
    features: dict[str, Tensor] = {}
    label: dict[str, Tensor] = {}
    try:
        for number, _wire, value in _fields(payload):
            if number in (1, 2) and isinstance(value, bytes):
                key, tensor = _decode_map(value)
                if tensor is not None:
                    (features if number == 1 else label)[key] = tensor
    except _Malformed as exc:
        raise ValueError(str(exc)) from None
    return features, label


# ---------------------------------------------------------------------------------------------
# Reading a file


def _row_width(tensor: Tensor) -> int:
    if tensor.keys is None:
        return int(tensor.values.size)
    if not tensor.shape:
        raise _Malformed("a sparse tensor (with keys) needs a shape")
    return int(np.prod(tensor.shape))


def read_recordio_protobuf(data: bytes, *, source: str, label_size: int = 1) -> Dataset | None:
    """Read one RecordIO-protobuf file's bytes.

    Args:
        label_size: 0 ignores labels (unsupervised training); 1 reads ``label["values"]`` when
            present. Either all records have a label or none.

    Returns:
        Dense features when every record is dense, else CSR; None for a file with no records.

    Raises:
        ValidationError: Framing or decoding errors and inconsistent records, naming the record.
    """
    rows_values: list[np.ndarray] = []
    rows_keys: list[np.ndarray | None] = []
    widths: list[int] = []
    labels: list[float] = []
    labelled = 0
    for number, payload in enumerate(iter_recordio(data, source=source), start=1):
        try:
            features, label = decode_record(payload)
            tensor = features.get("values")
            if tensor is None:
                names = sorted(features) or ["none"]
                raise _Malformed(f"no features['values'] tensor (features: {', '.join(names)})")
            widths.append(_row_width(tensor))
        except (ValueError, _Malformed) as exc:
            raise ValidationError(f"{source} record {number}: {exc}") from None
        rows_values.append(tensor.values)
        rows_keys.append(tensor.keys)
        target = label.get("values")
        if target is not None and target.values.size:
            labelled += 1
            labels.append(float(target.values[0]))
    if not rows_values:
        return None
    if label_size and labelled not in (0, len(rows_values)):
        raise ValidationError(
            f"{source}: {labelled} of {len(rows_values)} records have a label; all or none must"
        )
    label_array = np.asarray(labels, dtype=np.float64) if label_size and labelled else None
    n = len(rows_values)
    if all(keys is None for keys in rows_keys):
        if len(set(widths)) > 1:
            bad = next(i for i, w in enumerate(widths) if w != widths[0])
            raise ValidationError(
                f"{source} record {bad + 1}: {widths[bad]} feature values, but record 1 has "
                f"{widths[0]}; dense records must all have the same length"
            )
        dense = np.vstack(rows_values) if widths[0] else np.empty((n, 0))
        return Dataset(dense, label_array, None, [(source, n)])
    return Dataset(_to_csr(rows_values, rows_keys, widths), label_array, None, [(source, n)])


def _to_csr(
    rows_values: Sequence[np.ndarray], rows_keys: Sequence[np.ndarray | None], widths: list[int]
) -> sp.csr_matrix:
    indptr = [0]
    indices: list[np.ndarray] = []
    for values, keys in zip(rows_values, rows_keys, strict=True):
        columns = np.arange(values.size) if keys is None else keys
        indices.append(np.asarray(columns, dtype=np.int64))
        indptr.append(indptr[-1] + values.size)
    matrix = sp.csr_matrix(
        (np.concatenate(rows_values), np.concatenate(indices), np.asarray(indptr)),
        shape=(len(rows_values), max(widths)),
    )
    matrix.sum_duplicates()
    return matrix


# ---------------------------------------------------------------------------------------------
# Writing (tests, examples, batch output)


def _key(number: int, wire: int) -> bytes:
    return _encode_varint((number << 3) | wire)


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _key(number, _LEN) + _encode_varint(len(payload)) + payload


def _tensor_kind(dtype: np.dtype[np.generic]) -> int:
    if np.issubdtype(dtype, np.integer):
        return _INT32
    if dtype == np.float32:
        return _FLOAT32
    if dtype == np.float64:
        return _FLOAT64
    raise ValueError(f"Cannot write dtype {dtype}: use int32, float32 or float64")


def _encode_tensor(
    values: np.ndarray, keys: Sequence[int] | None = None, shape: Sequence[int] | None = None
) -> bytes:
    kind = _tensor_kind(values.dtype)
    if kind == _INT32:
        packed = b"".join(_encode_varint(int(v)) for v in values.tolist())
    else:
        packed = values.astype("<f4" if kind == _FLOAT32 else "<f8").tobytes()
    body = _length_delimited(1, packed) if values.size else b""
    if keys:
        body += _length_delimited(2, b"".join(_encode_varint(int(k)) for k in keys))
    if shape:
        body += _length_delimited(3, b"".join(_encode_varint(int(s)) for s in shape))
    return _length_delimited(kind, body)


def _map_entry(number: int, name: str, value: bytes) -> bytes:
    return _length_delimited(
        number, _length_delimited(1, name.encode()) + _length_delimited(2, value)
    )


def encode_record(
    values: np.ndarray,
    label: np.ndarray | None = None,
    *,
    keys: Sequence[int] | None = None,
    shape: Sequence[int] | None = None,
) -> bytes:
    """Encode one ``Record`` with ``features["values"]`` (and ``label["values"]``)."""
    payload = _map_entry(1, "values", _encode_tensor(values, keys, shape))
    if label is not None:
        payload += _map_entry(2, "values", _encode_tensor(label))
    return payload


def _label_at(labels: np.ndarray | None, index: int) -> np.ndarray | None:
    return None if labels is None else np.asarray(labels)[index : index + 1]


def write_numpy_to_dense_tensor(
    file: BinaryIO, array: np.ndarray, labels: np.ndarray | None = None
) -> None:
    """Write each row of a 2-D array as a dense record (the SageMaker SDK's function, same bytes).

    The tensor type follows the dtype: integers → Int32, float32 → Float32, float64 → Float64.
    """
    if array.ndim != 2:
        raise ValueError(f"Array must be 2-D, got shape {array.shape}")
    if labels is not None and (labels.ndim != 1 or labels.shape[0] != array.shape[0]):
        raise ValueError(f"Labels must be 1-D with {array.shape[0]} entries")
    for index, row in enumerate(array):
        write_recordio(file, encode_record(row, _label_at(labels, index)))


def write_spmatrix_to_sparse_tensor(
    file: BinaryIO, array: sp.spmatrix, labels: np.ndarray | None = None
) -> None:
    """Write each row of a sparse matrix as a sparse record (keys = columns, shape = [width])."""
    matrix = sp.csr_matrix(array)
    width = matrix.shape[1]
    for index in range(matrix.shape[0]):
        start, end = matrix.indptr[index], matrix.indptr[index + 1]
        keys = matrix.indices[start:end].tolist()
        payload = encode_record(
            matrix.data[start:end], _label_at(labels, index), keys=keys, shape=[width]
        )
        write_recordio(file, payload)
