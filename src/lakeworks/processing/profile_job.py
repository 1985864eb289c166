"""The built-in runner of profile jobs: ``python -m lakeworks.processing.profile_job``.

Runs inside the job process and imports only core, schemas and the data-preparation library.
Streams the dataset under ``--input`` through :func:`lakeworks.dataprep.profile_dataset` (all
rows, the first N or a random N) and writes ``profile.json`` and the self-contained
``report.html`` to ``--output``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lakeworks.dataprep.profiling import profile_dataset
from lakeworks.dataprep.report import render_profile_html
from lakeworks.processing.datasets import data_files, detect_format, fail
from lakeworks.schemas.processing import BuiltinJobConfig

__all__ = ["PROFILE_NAME", "REPORT_NAME", "main", "profile"]

PROFILE_NAME = "profile.json"
REPORT_NAME = "report.html"


def profile(config: BuiltinJobConfig, input_folder: Path, output: Path) -> None:
    """Profile the input; write ``profile.json`` and ``report.html`` into ``output``."""
    files = data_files(input_folder)
    fmt = detect_format(files, config.input_format)
    source = files[0] if len(files) == 1 else input_folder
    print(f"[lakeworks] profiling {len(files)} {fmt} file(s), sample {config.sample}")
    result = profile_dataset(
        source,
        format=fmt,
        delimiter=config.delimiter,
        sample=config.sample,
        n=config.rows,
        seed=config.seed,
    )
    output.mkdir(parents=True, exist_ok=True)
    (output / PROFILE_NAME).write_text(json.dumps(result, allow_nan=False, default=str))
    title = config.title or "Data profile"
    (output / REPORT_NAME).write_text(render_profile_html(result, title=title), encoding="utf-8")
    print(f"[lakeworks] profiled {result['rows']} rows x {result['columns_count']} columns")


def main(argv: list[str] | None = None) -> None:
    """Run the profile (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="lakeworks.processing.profile_job")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--opt-ml", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        config = BuiltinJobConfig.model_validate(json.loads(args.config.read_text()))
        profile(config, args.input, args.output)
    except Exception as exc:  # every failure becomes the job's FailureReason
        fail(args.opt_ml, exc)


if __name__ == "__main__":
    main()
