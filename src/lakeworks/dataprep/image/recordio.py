"""MXNet RecordIO image packs, as MXNet's ``im2rec`` tool makes them: ``.rec``, ``.idx``, ``.lst``.

Byte format (dmlc-core ``recordio``, all little-endian):

- each record is ``uint32 magic = 0xced7230a``, ``uint32 lrecord``, the data, then zero bytes up
  to a multiple of 4. ``lrecord`` holds the data length in its low 29 bits and a continuation
  flag ``cflag`` in its top 3 bits: 0 for a whole record. Data containing the magic number at a
  4-byte-aligned offset is split there into parts flagged 1 (first), 2 (middle) and 3 (last);
  the magic itself is left out and a reader puts it back between parts;
- an image record's data is ``IRHeader`` — ``struct "<IfQQ"``: ``flag`` (uint32), ``label``
  (float32), ``id`` (uint64), ``id2`` (uint64), 24 bytes — followed by the encoded image. With
  several labels ``flag`` is their count, ``label`` is 0 and the labels follow the header as
  float32 values, before the image;
- the ``.idx`` file is text, one ``index<TAB>byte offset of the record`` line per record;
- the ``.lst`` file is text, one ``index<TAB>label…<TAB>relative path`` line per image, labels
  written with ``%f``.

:func:`pack_images` checks every image decodes before it is packed: a corrupt image is a
reported item (``on_error="skip"`` packs the rest and lists it; ``"fail"`` raises and writes
nothing). Nothing is ever dropped without appearing in the report.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.image.ops import apply_ops, encode_image, load_image

__all__ = [
    "IR_FORMAT",
    "IR_SIZE",
    "MAGIC",
    "IRHeader",
    "ListEntry",
    "PackReport",
    "iter_images",
    "make_list",
    "open_image_record",
    "pack_header",
    "pack_images",
    "read_idx",
    "read_lst",
    "read_records",
    "unpack_header",
    "unpack_images",
    "write_lst",
    "write_record",
]

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
IR_FORMAT = "<IfQQ"
IR_SIZE = struct.calcsize(IR_FORMAT)
_MAX_LENGTH = (1 << 29) - 1
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class IRHeader:
    """The header in front of each packed image (MXNet's ``recordio.IRHeader``)."""

    flag: int
    label: float | tuple[float, ...]
    id: int
    id2: int = 0


def pack_header(header: IRHeader, payload: bytes) -> bytes:
    """Return header + payload as MXNet's ``recordio.pack`` does (labels after the header)."""
    if isinstance(header.label, tuple):
        labels = struct.pack(f"<{len(header.label)}f", *header.label)
        head = struct.pack(IR_FORMAT, len(header.label), 0.0, header.id, header.id2)
        return head + labels + payload
    return struct.pack(IR_FORMAT, 0, float(header.label), header.id, header.id2) + payload


def unpack_header(record: bytes) -> tuple[IRHeader, bytes]:
    """Split a record into its :class:`IRHeader` and payload (MXNet's ``recordio.unpack``).

    Raises:
        ValidationError: The record is shorter than its header says.
    """
    if len(record) < IR_SIZE:
        raise ValidationError(f"record of {len(record)} bytes is shorter than an IRHeader")
    flag, label, ident, ident2 = struct.unpack(IR_FORMAT, record[:IR_SIZE])
    rest = record[IR_SIZE:]
    if flag > 0:
        if len(rest) < 4 * flag:
            raise ValidationError(f"record {ident} announces {flag} labels but is too short")
        labels = struct.unpack(f"<{flag}f", rest[: 4 * flag])
        return IRHeader(flag, tuple(float(v) for v in labels), ident, ident2), rest[4 * flag :]
    return IRHeader(flag, float(label), ident, ident2), rest


def _frame(cflag: int, data: bytes) -> bytes:
    padding = (-len(data)) % 4
    return _MAGIC_BYTES + struct.pack("<I", (cflag << 29) | len(data)) + data + b"\0" * padding


def write_record(stream: BinaryIO, data: bytes) -> None:
    """Write one record with dmlc-core's framing (splitting at aligned magic numbers).

    Raises:
        ValidationError: The record is 2**29 bytes or more, RecordIO's limit.
    """
    if len(data) > _MAX_LENGTH:
        raise ValidationError(
            f"a RecordIO record holds under 2**29 bytes; this one has {len(data)}"
        )
    start = 0
    parts: list[bytes] = []
    for offset in range(0, len(data) - len(data) % 4, 4):
        if data[offset : offset + 4] == _MAGIC_BYTES:
            parts.append(_frame(1 if start == 0 else 2, data[start:offset]))
            start = offset + 4
    parts.append(_frame(3 if start else 0, data[start:]))
    stream.write(b"".join(parts))


def read_records(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Yield ``(offset, data)`` for each record, joining split records.

    Raises:
        ValidationError: Bad magic number or truncated data, with the byte offset.
    """
    while True:
        offset = stream.tell()
        data = b""
        expected_first = True
        while True:
            head = stream.read(8)
            if not head and expected_first:
                return
            if len(head) < 8:
                raise ValidationError(f"RecordIO file is truncated at byte {stream.tell()}")
            magic, lrecord = struct.unpack("<II", head)
            if magic != MAGIC:
                raise ValidationError(
                    f"not a RecordIO record at byte {stream.tell() - 8}: magic {magic:#010x}, "
                    f"expected {MAGIC:#010x}"
                )
            cflag, length = lrecord >> 29, lrecord & _MAX_LENGTH
            chunk = stream.read(length)
            stream.read((-length) % 4)
            if len(chunk) < length:
                raise ValidationError(f"RecordIO record at byte {offset} is truncated")
            if not expected_first:
                data += _MAGIC_BYTES
            data += chunk
            if cflag in (0, 3):
                break
            expected_first = False
        yield offset, data


@dataclass(frozen=True)
class ListEntry:
    """One line of an ``.lst`` file: index, labels and the image path relative to a root."""

    index: int
    labels: tuple[float, ...]
    path: str


def write_lst(entries: Sequence[ListEntry]) -> str:
    """Return the ``.lst`` text of ``entries`` (im2rec's layout, labels as ``%f``)."""
    lines = []
    for entry in entries:
        labels = "".join(f"{label:f}\t" for label in entry.labels)
        lines.append(f"{entry.index}\t{labels}{entry.path}\n")
    return "".join(lines)


def read_lst(text: str) -> list[ListEntry]:
    """Parse ``.lst`` text.

    Raises:
        ValidationError: A line has fewer than three fields or a non-numeric index/label.
    """
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.strip().split("\t")]
        try:
            if len(fields) < 3:
                raise ValueError("fewer than 3 tab-separated fields")
            entries.append(
                ListEntry(int(fields[0]), tuple(float(f) for f in fields[1:-1]), fields[-1])
            )
        except ValueError as exc:
            raise ValidationError(
                f".lst line {number} is not 'index<TAB>label…<TAB>path': {exc}"
            ) from None
    return entries


def read_idx(text: str) -> dict[int, int]:
    """Parse ``.idx`` text into ``{index: byte offset}``."""
    out: dict[int, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            key, offset = line.split("\t")
            out[int(key)] = int(offset)
        except ValueError:
            raise ValidationError(f".idx line {number} is not 'index<TAB>offset'") from None
    return out


def make_list(root: Path) -> list[ListEntry]:
    """List the images under ``root`` as im2rec ``--list`` does with class folders.

    Each sub-folder is a class, labelled by its position in sorted order; images directly in
    ``root`` get label 0 when there are no sub-folders. Paths are relative, sorted.
    """
    files = sorted(
        p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES
    )
    classes = sorted({p.relative_to(root).parts[0] for p in files if p.parent != root})
    entries = []
    for index, path in enumerate(files):
        relative = path.relative_to(root)
        label = float(classes.index(relative.parts[0])) if len(relative.parts) > 1 else 0.0
        entries.append(ListEntry(index, (label,), relative.as_posix()))
    return entries


@dataclass
class PackReport:
    """What :func:`pack_images` or :func:`unpack_images` did: counts and every failed item."""

    packed: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready data."""
        return {"packed": self.packed, "failed": list(self.failed), "files": dict(self.files)}


def _inside(root: Path, relative: str) -> Path:
    path = (root / relative).resolve()
    if not path.is_relative_to(root.resolve()):
        raise ValidationError(f"path {relative!r} leaves the image root")
    return path


def pack_images(
    entries: Sequence[ListEntry],
    root: Path,
    rec_path: Path,
    *,
    ops: Sequence[dict[str, Any]] | None = None,
    reencode: bool = False,
    quality: int = 95,
    on_error: str = "skip",
) -> PackReport:
    """Pack images with their labels into ``rec_path`` plus its ``.idx`` (and ``.lst``).

    Args:
        entries: What to pack (from :func:`make_list` or :func:`read_lst`).
        root: The folder the entry paths are relative to (paths may not leave it).
        rec_path: The ``.rec`` file to write; ``.idx`` and ``.lst`` go beside it.
        ops: Image operations (:func:`~lakeworks.dataprep.image.ops.apply_ops`) before packing;
            the result is JPEG-encoded.
        reencode: JPEG-encode even without ops (else the original bytes are packed, as im2rec's
            ``--pass-through``).
        quality: JPEG quality.
        on_error: ``skip`` (pack the rest, list the failure) or ``fail`` (raise; write nothing).

    Returns:
        A :class:`PackReport`: how many were packed and each failure with index, path, reason.

    Raises:
        ValidationError: ``on_error="fail"`` and an image is unreadable; or bad arguments.
    """
    if on_error not in ("skip", "fail"):
        raise ValidationError(f"'on_error' must be 'skip' or 'fail'; got {on_error!r}")
    report = PackReport()
    rec_path = Path(rec_path)
    idx_path, lst_path = rec_path.with_suffix(".idx"), rec_path.with_suffix(".lst")
    packed: list[ListEntry] = []
    index_lines: list[str] = []
    handle, temp_name = tempfile.mkstemp(dir=rec_path.parent, suffix=".rec.tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            for entry in entries:
                try:
                    payload = _encoded(entry, root, ops, reencode, quality)
                except ValidationError as exc:
                    failure = {"index": entry.index, "path": entry.path, "error": exc.message}
                    if on_error == "fail":
                        raise ValidationError(
                            f"image {entry.path!r} (index {entry.index}) cannot be packed: "
                            f"{exc.message}; nothing was written",
                            details={"failed": [failure]},
                        ) from None
                    report.failed.append(failure)
                    continue
                labels = entry.labels
                header = IRHeader(
                    0 if len(labels) == 1 else len(labels),
                    labels[0] if len(labels) == 1 else tuple(labels),
                    entry.index,
                    0,
                )
                index_lines.append(f"{entry.index}\t{stream.tell()}\n")
                write_record(stream, pack_header(header, payload))
                packed.append(entry)
        os.replace(temp_name, rec_path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    idx_path.write_text("".join(index_lines), encoding="utf-8")
    lst_path.write_text(write_lst(packed), encoding="utf-8")
    report.packed = len(packed)
    report.files = {"rec": str(rec_path), "idx": str(idx_path), "lst": str(lst_path)}
    return report


def _encoded(
    entry: ListEntry,
    root: Path,
    ops: Sequence[dict[str, Any]] | None,
    reencode: bool,
    quality: int,
) -> bytes:
    path = _inside(root, entry.path)
    if not path.is_file():
        raise ValidationError("file not found")
    raw = path.read_bytes()
    image = load_image(raw, entry.path)
    if ops:
        image = apply_ops(image, ops)
    elif not reencode:
        return raw
    return encode_image(image, "JPEG", quality)


def iter_images(rec_path: Path) -> Iterator[tuple[int, IRHeader, bytes]]:
    """Yield ``(offset, header, image bytes)`` for each record of a ``.rec`` file."""
    with Path(rec_path).open("rb") as stream:
        for offset, record in read_records(stream):
            header, payload = unpack_header(record)
            yield offset, header, payload


def unpack_images(rec_path: Path, out_dir: Path, *, on_error: str = "skip") -> PackReport:
    """Unpack a ``.rec`` file into image files plus an ``.lst`` listing them.

    Images are written as ``<id>.<format>`` (the format Pillow detects); a payload that does
    not decode is reported (``skip``: listed and not written; ``fail``: raise).

    Raises:
        ValidationError: Broken framing (always), or with ``on_error="fail"`` a corrupt image.
    """
    if on_error not in ("skip", "fail"):
        raise ValidationError(f"'on_error' must be 'skip' or 'fail'; got {on_error!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = PackReport()
    entries = []
    for offset, header, payload in iter_images(rec_path):
        try:
            image = load_image(payload, f"record {header.id}")
        except ValidationError as exc:
            failure = {"index": header.id, "offset": offset, "error": exc.message}
            if on_error == "fail":
                raise ValidationError(exc.message, details={"failed": [failure]}) from None
            report.failed.append(failure)
            continue
        suffix = {"JPEG": "jpg"}.get(image.format or "", (image.format or "img").lower())
        name = f"{header.id}.{suffix}"
        (out_dir / name).write_bytes(payload)
        labels = header.label if isinstance(header.label, tuple) else (header.label,)
        entries.append(ListEntry(header.id, labels, name))
    lst_path = out_dir / (Path(rec_path).stem + ".lst")
    lst_path.write_text(write_lst(entries), encoding="utf-8")
    report.packed = len(entries)
    report.files = {"dir": str(out_dir), "lst": str(lst_path)}
    return report


def open_image_record(rec_path: Path, offset: int) -> tuple[IRHeader, Image.Image]:
    """Read the record at ``offset`` (from the ``.idx``) and decode its image."""
    with Path(rec_path).open("rb") as stream:
        stream.seek(offset)
        for _, record in read_records(stream):
            header, payload = unpack_header(record)
            return header, load_image(payload, f"record {header.id}")
    raise ValidationError(f"no record at byte {offset}")
