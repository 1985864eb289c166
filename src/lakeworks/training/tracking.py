"""Run tracking as pure functions: log lines → events and metric points, final metrics, lineage
digests, and the learning curve drawn as a self-contained SVG (no plotting library).

The server feeds a job's raw log bytes through :func:`split_lines` as they grow; each complete
line becomes one CloudWatch-style event, and :class:`MetricMatcher` turns the lines that match a
metric definition into points of that metric's series (SageMaker's rule: every match is a data
point, the last one is the final value). Nothing here touches the database or the network.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

__all__ = [
    "MATCH_CHARS",
    "MAX_EVENT_CHARS",
    "MetricMatcher",
    "digest_objects",
    "learning_curve_html",
    "learning_curve_svg",
    "merge_final_metrics",
    "split_lines",
    "stream_name",
]

#: CloudWatch Logs caps an event at 256 KiB; longer lines become several events.
MAX_EVENT_CHARS = 256 * 1024 - 26
#: Characters of a line that metric regexes see.
MATCH_CHARS = 4096
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def stream_name(job_name: str, started: datetime) -> str:
    """SageMaker's log stream of a single-instance job: ``<job>/algo-1-<epoch seconds>``."""
    return f"{job_name}/algo-1-{int(started.timestamp())}"


def split_lines(data: bytes, *, final: bool) -> tuple[list[str], int]:
    """Split raw log bytes into complete lines.

    Args:
        data: Bytes read from the log, starting at a line boundary.
        final: The log will not grow any more: a last line without a newline counts too.

    Returns:
        ``(lines, consumed)``: the lines (decoded as UTF-8, bad bytes replaced, a ``\\r``
        before the newline dropped) and how many bytes of ``data`` they used; the rest is an
        incomplete line to read again later.
    """
    end = len(data) if final else data.rfind(b"\n") + 1
    if end <= 0:
        return [], 0
    text = data[:end].decode("utf-8", "replace")
    raw = text.split("\n")
    if raw and raw[-1] == "":
        raw.pop()
    lines: list[str] = []
    for line in raw:
        line = line.removesuffix("\r")
        if len(line) <= MAX_EVENT_CHARS:
            lines.append(line)
        else:
            lines.extend(
                line[i : i + MAX_EVENT_CHARS] for i in range(0, len(line), MAX_EVENT_CHARS)
            )
    return lines, end


@dataclass(frozen=True)
class _Compiled:
    name: str
    pattern: re.Pattern[str]


class MetricMatcher:
    """Applies metric definitions (``{"Name", "Regex"}``) to log lines.

    Definitions whose regex does not compile or has no group are dropped (SageMaker refuses them
    at create time; see :func:`check_definitions`).
    """

    def __init__(self, definitions: Iterable[Mapping[str, str]]) -> None:
        self.compiled: list[_Compiled] = []
        for definition in definitions:
            try:
                pattern = re.compile(definition["Regex"])
            except (re.error, KeyError):
                continue
            if pattern.groups >= 1:
                self.compiled.append(_Compiled(definition["Name"], pattern))

    @staticmethod
    def check_definitions(definitions: Iterable[Mapping[str, str]]) -> list[str]:
        """Problems with ``definitions`` (bad regexes, no capture group, duplicate names)."""
        problems: list[str] = []
        seen: set[str] = set()
        for definition in definitions:
            name, regex = definition["Name"], definition["Regex"]
            if name in seen:
                problems.append(f"metric {name!r} is defined twice")
            seen.add(name)
            try:
                pattern = re.compile(regex)
            except re.error as exc:
                problems.append(f"metric {name!r}: the regex does not compile ({exc})")
                continue
            if pattern.groups < 1:
                problems.append(f"metric {name!r}: the regex needs a group capturing the value")
        return problems

    def match(self, line: str) -> list[tuple[str, float]]:
        """The ``(metric, value)`` pairs that ``line`` yields (finite numbers only).

        Only the first :data:`MATCH_CHARS` characters are searched: metric lines are short, and
        a user's regex must not get a megabyte line to backtrack over.
        """
        found: list[tuple[str, float]] = []
        line = line[:MATCH_CHARS]
        for item in self.compiled:
            hit = item.pattern.search(line)
            if hit is None:
                continue
            try:
                value = float(hit.group(1))
            except (TypeError, ValueError, IndexError):
                continue
            if math.isfinite(value):
                found.append((item.name, value))
        return found


def merge_final_metrics(
    last_values: Mapping[str, float], reported: Mapping[str, float]
) -> dict[str, float]:
    """Final metrics: the last value of every defined metric, overridden by what the algorithm
    reported itself (``output/metrics.json``, full precision)."""
    merged = dict(last_values)
    merged.update({k: v for k, v in reported.items() if math.isfinite(v)})
    return merged


def digest_objects(objects: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex) over sorted ``(key, etag)`` pairs: one hash for a whole input prefix."""
    digest = hashlib.sha256()
    for key, etag in sorted(objects):
        digest.update(f"{key}\x00{etag}\n".encode())
    return digest.hexdigest()


def _ticks(low: float, high: float) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high) or high <= low:
        return [low]
    raw = (high - low) / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min((m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw), default=raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _label(value: float) -> str:
    return f"{value:.4g}"


def learning_curve_svg(
    series: Mapping[str, Sequence[tuple[int, float]]], *, title: str, width: int = 720
) -> str:
    """Draw each metric's ``(step, value)`` points as a line on shared axes.

    Args:
        series: Metric name → points in step order.
        title: Shown above the plot (escaped).
        width: Width in pixels; the height is 60% of it.

    Returns:
        A complete SVG document (no scripts, no external references).
    """
    height = int(width * 0.6)
    left, right, top, bottom = 70, 20, 40, 60 + 18 * ((len(series) + 1) // 2)
    plot_w, plot_h = width - left - right, height - top - 60
    height = top + plot_h + bottom
    points = [(s, v) for pts in series.values() for s, v in pts if math.isfinite(v)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#666">'
            "No metric values recorded</text></svg>"
        )
        return "\n".join(parts)
    x_low, x_high = min(s for s, _ in points), max(s for s, _ in points)
    y_low, y_high = min(v for _, v in points), max(v for _, v in points)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    if y_high == y_low:
        pad = abs(y_low) * 0.1 or 1.0
        y_low, y_high = y_low - pad, y_high + pad

    def px(step: float) -> float:
        return left + (step - x_low) / (x_high - x_low) * plot_w

    def py(value: float) -> float:
        return top + plot_h - (value - y_low) / (y_high - y_low) * plot_h

    parts.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    )
    for tick in _ticks(y_low, y_high):
        y = py(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(tick)}</text>'
        )
    for tick in _ticks(x_low, x_high):
        x = px(tick)
        parts.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{_label(tick)}</text>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" '
        'fill="#444">step</text>'
    )
    for index, (name, pts) in enumerate(series.items()):
        color = _PALETTE[index % len(_PALETTE)]
        finite = [(s, v) for s, v in pts if math.isfinite(v)]
        coords = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in finite)
        if len(finite) > 1:
            parts.append(
                f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        for s, v in finite if len(finite) <= 60 else finite[-1:]:
            parts.append(f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="2.5" fill="{color}"/>')
        lx = left + (index % 2) * (plot_w / 2)
        ly = top + plot_h + 52 + 18 * (index // 2)
        last = f" (last {_label(finite[-1][1])})" if finite else ""
        parts.append(
            f'<rect x="{lx:.1f}" y="{ly - 9}" width="12" height="12" fill="{color}"/>'
            f'<text x="{lx + 18:.1f}" y="{ly + 1}">{escape(name)}{escape(last)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def learning_curve_html(series: Mapping[str, Sequence[tuple[int, float]]], *, title: str) -> str:
    """The learning curve as a self-contained HTML page (the SVG inline, no scripts)."""
    svg = learning_curve_svg(series, title=title)
    rows = "".join(
        f"<tr><td>{escape(name)}</td><td>{len(pts)}</td>"
        f"<td>{_label(pts[-1][1]) if pts else ''}</td></tr>"
        for name, pts in series.items()
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body>\n{svg}\n"
        '<table border="1" cellpadding="4"><tr><th>metric</th><th>points</th>'
        f"<th>last</th></tr>{rows}</table>\n</body></html>\n"
    )
