"""Reading one input channel's directory: content types, compression, file order.

A channel is the files under ``input/data/<channel>/`` (recursively, sorted by path; names
starting with ``.`` or ``_`` such as ``_SUCCESS`` are skipped). Each file may be gzip-compressed:
with ``CompressionType: Gzip`` or detected by its magic bytes. The content type picks the reader;
its parameters follow AWS (``text/csv;label_size=0``).
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats.csv import read_csv
from lakeworks.training.formats.dataset import Dataset, concatenate
from lakeworks.training.formats.libsvm import read_libsvm
from lakeworks.training.formats.parquet import read_parquet
from lakeworks.training.formats.recordio_protobuf import read_recordio_protobuf

__all__ = [
    "CSV",
    "LIBSVM",
    "PARQUET",
    "RECORDIO_PROTOBUF",
    "ContentType",
    "channel_files",
    "parse_content_type",
    "read_channel",
]

CSV = "text/csv"
LIBSVM = "text/libsvm"
PARQUET = "application/x-parquet"
RECORDIO_PROTOBUF = "application/x-recordio-protobuf"

#: Every spelling the AWS algorithm containers accept, mapped to the canonical type.
_ALIASES = {
    "csv": CSV,
    "text/csv": CSV,
    "libsvm": LIBSVM,
    "text/libsvm": LIBSVM,
    "text/x-libsvm": LIBSVM,
    "parquet": PARQUET,
    "application/x-parquet": PARQUET,
    "application/x-recordio-protobuf": RECORDIO_PROTOBUF,
    "application/x-recordio": RECORDIO_PROTOBUF,
    "recordio-protobuf": RECORDIO_PROTOBUF,
}
#: Decompressed bytes per file; a guard against a gzip bomb in a channel.
MAX_FILE_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class ContentType:
    """A parsed channel content type: the canonical media type and its ``label_size``."""

    media_type: str
    label_size: int | None = None


def parse_content_type(value: str, *, allowed: tuple[str, ...]) -> ContentType:
    """Parse ``value`` (``"text/csv;label_size=0"``) against the types an algorithm reads.

    Raises:
        ValidationError: An unknown or unsupported type, or a bad ``label_size``.
    """
    media, *params = [part.strip() for part in value.split(";")]
    canonical = _ALIASES.get(media.lower())
    if canonical is None or canonical not in allowed:
        raise ValidationError(
            f"Content type {value!r} is not supported by this algorithm; use one of "
            f"{', '.join(allowed)}",
            details={"allowed": list(allowed)},
        )
    label_size: int | None = None
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "label_size":
            if raw.strip() not in ("0", "1"):
                raise ValidationError(
                    f"Content type {value!r}: label_size must be 0 (no label) or 1 (label first)"
                )
            label_size = int(raw)
    return ContentType(canonical, label_size)


def channel_files(directory: Path) -> list[Path]:
    """The data files of a channel directory, sorted, hidden and marker files left out."""
    if not directory.is_dir():
        return []
    return sorted(
        path
        for path in directory.rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(directory).parts)
    )


def _decompress(data: bytes, source: str, gzipped: bool) -> bytes:
    if not (gzipped or data[:2] == b"\x1f\x8b"):
        return data
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_FILE_BYTES)
    except zlib.error as exc:
        raise ValidationError(
            f"{source}: CompressionType is Gzip but not gzip data ({exc})"
        ) from None
    if inflater.unconsumed_tail:
        raise ValidationError(f"{source}: decompresses to more than {MAX_FILE_BYTES} bytes")
    # Concatenated gzip members (as ``cat a.gz b.gz`` makes) hold more data after the first.
    if inflater.unused_data:
        try:
            out += gzip.decompress(inflater.unused_data)
        except (OSError, EOFError) as exc:
            raise ValidationError(f"{source}: damaged gzip data ({exc})") from None
    return out


def read_channel(
    directory: Path,
    *,
    channel: str,
    content_type: ContentType,
    label_size: int,
    gzipped: bool = False,
    weight_column: bool = False,
) -> Dataset:
    """Read every file of a channel into one dataset.

    Args:
        directory: ``input/data/<channel>``.
        channel: The channel name, for messages.
        content_type: Parsed content type; its ``label_size`` wins over ``label_size``.
        label_size: The algorithm's default (1 supervised, 0 unsupervised).
        gzipped: True for ``CompressionType: Gzip`` (gzip is also detected per file).
        weight_column: XGBoost's ``csv_weights=1``.

    Raises:
        ValidationError: No data, or the reader's error naming the file, row and column.
    """
    labels = content_type.label_size if content_type.label_size is not None else label_size
    files = channel_files(directory)
    parts: list[Dataset] = []
    for path in files:
        source = f"{channel}/{path.relative_to(directory).as_posix()}"
        data = _decompress(path.read_bytes(), source, gzipped)
        media = content_type.media_type
        part: Dataset | None
        if media == CSV:
            part = read_csv(data, source=source, label_size=labels, weight_column=weight_column)
        elif media == LIBSVM:
            part = read_libsvm(data, source=source)
        elif media == PARQUET:
            part = read_parquet(data, source=source, label_size=labels, weight_column=weight_column)
        else:
            part = read_recordio_protobuf(data, source=source, label_size=labels)
        if part is not None:
            parts.append(part)
    if not parts:
        where = "no files" if not files else "only empty files"
        raise ValidationError(f"No data in channel {channel!r}: {directory} has {where}")
    return concatenate(parts)
