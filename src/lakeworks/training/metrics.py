"""Metric lines the way SageMaker's built-in algorithms log them, and the final-metrics contract.

Two layers, both written by every built-in algorithm run:

1. **AWS-shaped log lines**, so ``MetricDefinitions`` written for SageMaker (and the regexes each
   algorithm publishes in :func:`lakeworks.training.algorithms.base.Algorithm.metric_definitions`)
   match unchanged. ``#011`` is a literal tab as CloudWatch shows it; SageMaker's own regexes
   expect those four characters, so the lines carry them::

       [3]#011train-rmse:0.41233#011validation-rmse:0.45511                (XGBoost)
       [3]#011validation's rmse: 0.45511                                     (LightGBM)
       #quality_metric: host=algo-1, epoch=3, validation mse_objective <loss>=0.455  (1P algos)
       #test_score (algo-1) : ('mse', 0.4551)                                (1P final scores)

2. **The final-metrics contract** for the job system: one line per final metric,
   ``#metric <name>=<value>`` (name as AWS spells it, e.g. ``validation:rmse``; value a Python
   float repr), and the same metrics in ``<output>/metrics.json`` as
   ``{"FinalMetricDataList": [{"MetricName": ..., "Value": ...}, ...]}`` — the shape of
   DescribeTrainingJob's field, less the timestamps the supervisor adds. The file is the
   authority (full precision); the lines let a log reader get the same without the file.

:func:`extract_metrics` applies MetricDefinitions to a log as SageMaker does (the last match of
each regex wins), for user-defined definitions and script-mode jobs.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

__all__ = [
    "FINAL_PREFIX",
    "HOST",
    "METRICS_FILE",
    "MetricDefinition",
    "MetricLog",
    "extract_metrics",
    "final_line",
    "lightgbm_definition",
    "lightgbm_line",
    "parse_final_metrics",
    "quality_metric_definition",
    "quality_metric_line",
    "read_metrics_file",
    "score_definition",
    "score_line",
    "xgboost_definition",
    "xgboost_line",
]

HOST = "algo-1"
FINAL_PREFIX = "#metric "
METRICS_FILE = "metrics.json"
_TAB = "#011"
#: A number as SageMaker's built-in metric regexes capture it.
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
_FINAL = re.compile(r"^#metric ([A-Za-z0-9_:.@\-]+)=(\S+)\s*$")


@dataclass(frozen=True)
class MetricDefinition:
    """A metric an algorithm reports: its AWS name and the regex that finds it in the log."""

    name: str
    regex: str

    def as_aws(self) -> dict[str, str]:
        """``{"Name": ..., "Regex": ...}`` as DescribeAlgorithm/MetricDefinitions spell it."""
        return {"Name": self.name, "Regex": self.regex}


def _fmt(value: float, digits: int = 5) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else str(value)


def xgboost_line(iteration: int, results: Sequence[tuple[str, str, float]]) -> str:
    """``[i]#011train-rmse:0.12345#011validation-rmse:...`` for ``(channel, metric, value)``s."""
    cells = "".join(f"{_TAB}{channel}-{metric}:{_fmt(value)}" for channel, metric, value in results)
    return f"[{iteration}]{cells}"


def xgboost_definition(channel: str, metric: str) -> MetricDefinition:
    """The definition SageMaker XGBoost publishes for ``<channel>:<metric>``."""
    return MetricDefinition(
        f"{channel}:{metric}",
        rf".*\[[0-9]+\].*{_TAB}{channel}-{re.escape(metric)}:{_NUMBER}.*",
    )


def lightgbm_line(iteration: int, channel: str, results: Sequence[tuple[str, float]]) -> str:
    """``[i]#011validation's rmse: 0.45511`` (LightGBM's own evaluation log, tab as ``#011``)."""
    cells = "".join(f"{_TAB}{channel}'s {metric}: {_fmt(value)}" for metric, value in results)
    return f"[{iteration}]{cells}"


def lightgbm_definition(metric: str) -> MetricDefinition:
    """The definition of SageMaker LightGBM's metric ``metric`` (named without a channel)."""
    return MetricDefinition(metric, rf"{_TAB}\S+'s {re.escape(metric)}: {_NUMBER}")


def quality_metric_line(
    epoch: int, channel: str, objective: str, value: float, *, batch: int | None = None
) -> str:
    """``#quality_metric: host=algo-1, epoch=E[, batch=B] <channel> <objective> <loss>=V``."""
    where = f"epoch={epoch}" + (f", batch={batch}" if batch is not None else "")
    return f"#quality_metric: host={HOST}, {where} {channel} {objective} <loss>={value!r}"


def quality_metric_definition(name: str, channel: str, objective: str = r"\S+") -> MetricDefinition:
    """A definition matching :func:`quality_metric_line` for ``channel`` (any objective)."""
    return MetricDefinition(
        name,
        rf"#quality_metric: host=\S+, epoch=\S+(?:, batch=\S+)? {channel} {objective} <loss>=(\S+)",
    )


def score_line(channel: str, name: str, value: float) -> str:
    """``#test_score (algo-1) : ('mse', 0.5)`` — a first-party algorithm's final score."""
    return f"#{channel}_score ({HOST}) : ({name!r}, {value!r})"


def score_definition(channel: str, name: str) -> MetricDefinition:
    """The definition of ``<channel>:<name>`` matching :func:`score_line`."""
    return MetricDefinition(
        f"{channel}:{name}", rf"#{channel}_score \(\S+\) : \('{re.escape(name)}', (\S+)\)"
    )


def final_line(name: str, value: float) -> str:
    """``#metric <name>=<value>``: the job system's final-metric line."""
    return f"{FINAL_PREFIX}{name}={float(value)!r}"


def parse_final_metrics(text: str) -> dict[str, float]:
    """All ``#metric name=value`` lines of a log; a later line for a name wins."""
    metrics: dict[str, float] = {}
    for line in text.splitlines():
        match = _FINAL.match(line.strip())
        if match:
            try:
                metrics[match.group(1)] = float(match.group(2))
            except ValueError:
                continue
    return metrics


def extract_metrics(
    text: str, definitions: Iterable[MetricDefinition | Mapping[str, str]]
) -> dict[str, float]:
    """Apply MetricDefinitions to a log as SageMaker does: per line, the last match wins.

    Definitions with a regex that does not compile, or a first group that is not a number, are
    skipped for that line.
    """
    compiled: list[tuple[str, re.Pattern[str]]] = []
    for definition in definitions:
        name, regex = (
            (definition.name, definition.regex)
            if isinstance(definition, MetricDefinition)
            else (definition["Name"], definition["Regex"])
        )
        try:
            compiled.append((name, re.compile(regex)))
        except re.error:
            continue
    found: dict[str, float] = {}
    for line in text.splitlines():
        for name, pattern in compiled:
            match = pattern.search(line)
            if match and match.groups():
                try:
                    found[name] = float(match.group(1))
                except (TypeError, ValueError):
                    continue
    return found


def read_metrics_file(output_dir: Path) -> dict[str, float]:
    """The final metrics of ``<output_dir>/metrics.json``; empty when there is none."""
    path = output_dir / METRICS_FILE
    if not path.is_file():
        return {}
    try:
        payload = json.loads(path.read_text())
        return {
            str(item["MetricName"]): float(item["Value"])
            for item in payload.get("FinalMetricDataList", [])
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


@dataclass
class MetricLog:
    """Where an algorithm reports: prints lines (flushed) and keeps the final metrics."""

    stream: TextIO | None = None
    final_metrics: dict[str, float] = field(default_factory=dict)

    def line(self, text: str) -> None:
        """Print one log line."""
        out = self.stream if self.stream is not None else sys.stdout
        print(text, file=out, flush=True)

    def final(self, name: str, value: float) -> None:
        """Record a final metric and print its ``#metric`` line (non-finite values skipped)."""
        if not math.isfinite(value):
            return
        self.final_metrics[name] = float(value)
        self.line(final_line(name, value))

    def finals(self, metrics: Mapping[str, float]) -> None:
        """Record several final metrics."""
        for name, value in metrics.items():
            self.final(name, value)

    def write(self, output_dir: Path) -> Path:
        """Write ``metrics.json`` into ``output_dir`` (atomically) and return its path."""
        output_dir.mkdir(parents=True, exist_ok=True)
        payload: dict[str, Any] = {
            "FinalMetricDataList": [
                {"MetricName": name, "Value": value} for name, value in self.final_metrics.items()
            ]
        }
        path = output_dir / METRICS_FILE
        tmp = path.with_name(f".{METRICS_FILE}.tmp")
        tmp.write_text(json.dumps(payload, indent=2))
        tmp.replace(path)
        return path
