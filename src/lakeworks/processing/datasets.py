"""Reading and writing the datasets of built-in processing jobs (runs inside the job process).

Imports only core, schemas and the pure data-preparation library: never the DB or the server.
A staged input is a folder holding one file or a tree of files of one format (the objects of
an S3 prefix); every file is read and the frames are concatenated in path order.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from lakeworks.core.errors import LakeworksError, ValidationError

__all__ = ["data_files", "detect_format", "fail", "read_frame", "write_frame"]

_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "parquet": (".parquet", ".pq"),
    "csv": (".csv", ".csv.gz", ".tsv", ".txt", ".csv.bz2"),
    "json": (".json", ".jsonl", ".ndjson"),
}


def data_files(folder: Path) -> list[Path]:
    """The data files under ``folder`` (hidden files and ``_SUCCESS`` markers left out).

    Raises:
        ValidationError: No files.
    """
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith((".", "_")) and not p.is_symlink()
    )
    if not files:
        raise ValidationError(f"The input has no data files (looked in {folder.name}/)")
    return files


def detect_format(files: list[Path], given: str | None) -> str:
    """The format of ``files``: ``given``, else from the extension of the first file.

    Raises:
        ValidationError: The extension says nothing, naming the formats allowed.
    """
    if given:
        return given
    name = files[0].name.lower()
    for fmt, extensions in _EXTENSIONS.items():
        if name.endswith(extensions):
            return fmt
    raise ValidationError(
        f"Cannot tell the format of {files[0].name!r}; pass input_format 'csv', 'parquet' or 'json'"
    )


def _read_one(path: Path, fmt: str, delimiter: str | None) -> pd.DataFrame:
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "json":
            return pd.read_json(path, lines=path.suffix != ".json")
        sep = delimiter or ("\t" if path.name.lower().endswith(".tsv") else ",")
        return pd.read_csv(path, sep=sep)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"{path.name} contains text that is not valid UTF-8 ({exc.reason} at byte "
            f"{exc.start}); re-encode it as UTF-8"
        ) from None
    except (ValueError, OSError) as exc:
        raise ValidationError(f"Cannot read {path.name} as {fmt}: {exc}") from None


def read_frame(folder: Path, fmt: str | None, delimiter: str | None) -> pd.DataFrame:
    """Read every data file under ``folder`` into one frame.

    Raises:
        ValidationError: No files, an unknown format, or a file that cannot be read.
    """
    files = data_files(folder)
    chosen = detect_format(files, fmt)
    frames = [_read_one(path, chosen, delimiter) for path in files]
    frames = [f for f in frames if len(f.columns)] or frames[:1]
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def write_frame(frame: pd.DataFrame, folder: Path, stem: str, fmt: str) -> Path:
    """Write ``frame`` as ``<folder>/<stem>.<csv|parquet>``; return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def fail(opt_ml: Path, exc: Exception) -> NoReturn:
    """End the job: the reason into ``/opt/ml/output/failure`` (its FailureReason), exit 1.

    A Lakeworks error is the user's (``ClientError``); anything else is the runner's
    (``AlgorithmError``).
    """
    if isinstance(exc, LakeworksError):
        text = f"ClientError: {exc.message}"
    else:
        text = f"AlgorithmError: {type(exc).__name__}: {exc}"
    failure = opt_ml / "output" / "failure"
    failure.parent.mkdir(parents=True, exist_ok=True)
    failure.write_text(text[:1000])
    print(text, file=sys.stderr)
    sys.exit(1)


def describe(frame: Any) -> str:
    """``"<rows> rows × <columns> columns"`` for the log."""
    return f"{len(frame)} rows x {len(frame.columns)} columns"
