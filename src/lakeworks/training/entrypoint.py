"""Run a built-in algorithm inside a job: ``python -m lakeworks.training.entrypoint ALGORITHM``.

``ALGORITHM`` is an algorithm name (``xgboost``) or the training image URI the job was created
with (any region's ``…/sagemaker-xgboost:1.7-1``); see :mod:`lakeworks.training.images`. Without
it, the variable ``LAKEWORKS_ALGORITHM`` names the algorithm.

The job's directory is laid out like ``/opt/ml`` in a SageMaker training container (see
:mod:`lakeworks.jobs.layout`). Paths come from the script-mode variables when they are set —
``SM_INPUT_DIR``, ``SM_INPUT_CONFIG_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_MODEL_DIR``,
``SM_OUTPUT_DIR`` — and otherwise from a root directory: ``--root DIR`` if given, else the current
directory when it holds ``input/config``, else its parent when that does (a job whose working
directory is ``code/``), else the current directory. Under the root:

* reads ``input/config/hyperparameters.json`` (``{name: string}``) and
  ``input/config/inputdataconfig.json`` (``{channel: {"ContentType", "CompressionType"}}``; a
  channel without a ContentType gets the algorithm's AWS default);
* reads each channel from ``input/data/<channel>/`` (every file, optionally gzip);
* trains, logging metrics to stdout in AWS's formats plus ``#metric <name>=<value>`` lines
  (:mod:`lakeworks.training.metrics`), scores the ``validation`` and ``test`` channels;
* writes the model into ``model/`` and the final metrics to ``output/metrics.json``.

On failure it writes ``output/failure`` the way AWS algorithms do — ``ClientError: …`` for a
problem with the hyperparameters or data (exit code 1), ``AlgorithmError: …`` for anything else
(exit code 2, with the traceback on stderr) — and writes no model.

Runs inside the job: imports only ``lakeworks.core``, ``lakeworks.schemas`` and this package's
pure modules, never the database or the server.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.training.images import resolve_algorithm
from lakeworks.training.metrics import MetricLog

__all__ = ["ALGORITHM_ERROR", "ALGORITHM_VARIABLE", "CLIENT_ERROR", "JobDirs", "main", "run"]

#: Where the job system may name the algorithm instead of the command line.
ALGORITHM_VARIABLE = "LAKEWORKS_ALGORITHM"
CLIENT_ERROR = 1
ALGORITHM_ERROR = 2
_MAX_FAILURE = 1024


@dataclass(frozen=True)
class JobDirs:
    """Where a job's inputs and outputs live."""

    config_dir: Path
    data_dir: Path
    model_dir: Path
    output_dir: Path
    channel_overrides: Mapping[str, Path]

    @classmethod
    def resolve(cls, environ: Mapping[str, str], root: Path | None, cwd: Path) -> JobDirs:
        """Paths from ``SM_*`` variables, else under ``root`` (see the module docstring)."""
        if root is None:
            root = cwd
            for candidate in (cwd, cwd.parent):
                if (candidate / "input" / "config").is_dir():
                    root = candidate
                    break
        input_dir = Path(environ.get("SM_INPUT_DIR") or root / "input")
        overrides = {
            name[len("SM_CHANNEL_") :].lower(): Path(value)
            for name, value in environ.items()
            if name.startswith("SM_CHANNEL_") and value
        }
        return cls(
            config_dir=Path(environ.get("SM_INPUT_CONFIG_DIR") or input_dir / "config"),
            data_dir=input_dir / "data",
            model_dir=Path(environ.get("SM_MODEL_DIR") or root / "model"),
            output_dir=Path(environ.get("SM_OUTPUT_DIR") or root / "output"),
            channel_overrides=overrides,
        )

    def channel_dir(self, channel: str) -> Path:
        """The directory of ``channel``."""
        return self.channel_overrides.get(channel.lower(), self.data_dir / channel)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text())
    except ValueError as exc:
        raise ValidationError(f"{what} ({path.name}) is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValidationError(f"{what} ({path.name}) must be a JSON object")
    return value


def _channels(dirs: JobDirs, config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Channel name → its inputdataconfig entry (channels found on disk get an empty one)."""
    channels: dict[str, dict[str, Any]] = {}
    for name, entry in config.items():
        channels[name] = entry if isinstance(entry, dict) else {}
    if dirs.data_dir.is_dir():
        for path in sorted(dirs.data_dir.iterdir()):
            if path.is_dir() and not path.name.startswith("."):
                channels.setdefault(path.name, {})
    return channels


def run(algorithm: str, dirs: JobDirs, log: MetricLog) -> None:
    """Train ``algorithm`` in the job laid out at ``dirs``.

    Raises:
        ValidationError: Bad hyperparameters, channels, content types or data.
    """
    from lakeworks.training.algorithms.base import algorithm_class, report_scores
    from lakeworks.training.formats.channel import parse_content_type, read_channel

    name = resolve_algorithm(algorithm).algorithm
    cls = algorithm_class(name)
    hyperparameters = _read_json(dirs.config_dir / "hyperparameters.json", "hyperparameters")
    estimator = cls.from_hyperparameters(hyperparameters)
    channels = _channels(dirs, _read_json(dirs.config_dir / "inputdataconfig.json", "channels"))
    allowed = ("train", *cls.extra_channels)
    for channel in channels:
        if channel not in allowed:
            raise ValidationError(
                f"Channel {channel!r} is not supported by {name}; use {', '.join(allowed)}",
                details={"allowed": list(allowed)},
            )
    if "train" not in channels:
        raise ValidationError(f"{name} needs a 'train' channel (input/data/train/)")
    # Names only: a value could be anything a user typed, and logs are shared more widely.
    log.line(
        f"[lakeworks] algorithm {name}; hyperparameters set: {', '.join(sorted(hyperparameters))}"
    )
    data = {}
    for channel in [c for c in allowed if c in channels]:
        entry = channels[channel]
        content_type = parse_content_type(
            str(entry.get("ContentType") or cls.default_content_type), allowed=cls.content_types
        )
        data[channel] = read_channel(
            dirs.channel_dir(channel),
            channel=channel,
            content_type=content_type,
            label_size=1 if cls.supervised else 0,
            gzipped=str(entry.get("CompressionType", "None")).lower() == "gzip",
            weight_column=channel == "train" and estimator.uses_weight_column(),
        )
        data[channel].check_finite(channel, allow_missing=cls.accepts_missing)
        shape = f"{data[channel].n_rows} rows x {data[channel].n_features} features"
        log.line(f"[lakeworks] channel {channel}: {content_type.media_type}, {shape}")
    train = data["train"]
    started = time.monotonic()
    estimator.fit(
        train.features,
        train.labels,
        sample_weight=train.weights,
        validation=data.get("validation"),
        log=log,
    )
    log.line(f"[lakeworks] trained in {time.monotonic() - started:.1f} s")
    for channel in ("validation", "test"):
        if channel in data:
            part = data[channel].with_columns(train.n_features)
            report_scores(log, estimator.score(part.features, part.labels, channel=channel))
    estimator.save(dirs.model_dir)
    log.write(dirs.output_dir)


def _fail(dirs: JobDirs | None, reason: str) -> None:
    text = reason if len(reason) <= _MAX_FAILURE else reason[: _MAX_FAILURE - 3] + "..."
    print(text, file=sys.stderr, flush=True)
    if dirs is None:
        return
    try:
        dirs.output_dir.mkdir(parents=True, exist_ok=True)
        (dirs.output_dir / "failure").write_text(text + "\n")
    except OSError as exc:
        print(f"[lakeworks] cannot write the failure file: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Command-line entry: train and return the exit code (0, 1 client error, 2 algorithm error)."""
    parser = argparse.ArgumentParser(
        prog="python -m lakeworks.training.entrypoint",
        description="Train a Lakeworks built-in algorithm in a SageMaker-style job directory.",
    )
    parser.add_argument(
        "algorithm",
        nargs="?",
        help=f"algorithm name or training image URI (default: ${ALGORITHM_VARIABLE})",
    )
    parser.add_argument("--root", type=Path, default=None, help="the job directory")
    args = parser.parse_args(argv)
    env = os.environ if environ is None else environ
    dirs: JobDirs | None = None
    try:
        dirs = JobDirs.resolve(env, args.root, Path.cwd())
        algorithm = args.algorithm or env.get(ALGORITHM_VARIABLE)
        if not algorithm:
            raise ValidationError(
                f"No algorithm given: pass its name or training image URI, or set "
                f"{ALGORITHM_VARIABLE}"
            )
        run(algorithm, dirs, MetricLog())
    except LakeworksError as exc:
        _fail(dirs, f"ClientError: {exc.message}")
        return CLIENT_ERROR
    except MemoryError:
        _fail(dirs, "AlgorithmError: out of memory; use a smaller dataset or more memory")
        return ALGORITHM_ERROR
    except Exception as exc:
        traceback.print_exc()
        _fail(dirs, f"AlgorithmError: {type(exc).__name__}: {exc}")
        return ALGORITHM_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
