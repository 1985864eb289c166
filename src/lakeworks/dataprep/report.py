"""A self-contained HTML report of a profile: inline CSS and SVG charts, no scripts, no network.

:func:`render_profile_html` turns the dict of :func:`lakeworks.dataprep.profiling.profile_frame`
into one HTML page: overview cards, warnings, a correlation heatmap and one section per column
(statistics, a histogram or a top-values bar chart, a missing-values bar). Every string that
comes from the data is HTML-escaped, so a column named ``<script>`` is shown, not run.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

__all__ = ["render_profile_html"]

_CSS = """
:root{--bg:#f5f7fb;--card:#fff;--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--accent:#4f46e5;
--accent2:#818cf8;--warn:#b45309;--warnbg:#fef3c7;--bad:#b91c1c;--badbg:#fee2e2}
*{box-sizing:border-box}body{margin:0;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",
Roboto,Helvetica,Arial,sans-serif;background:var(--bg);color:var(--ink)}
header{background:linear-gradient(120deg,#312e81,#4f46e5 60%,#6366f1);color:#fff;padding:28px 40px}
header h1{margin:0;font-size:24px;font-weight:650}header p{margin:4px 0 0;opacity:.85}
main{max-width:1180px;margin:0 auto;padding:24px 40px 60px}
h2{font-size:18px;margin:32px 0 12px}h3{margin:0;font-size:16px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(160px,1fr));gap:12px}
.card{background:var(--card);border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);
padding:14px 16px}
.card .v{font-size:22px;font-weight:650}.card .k{color:var(--muted);font-size:12px;
text-transform:uppercase;letter-spacing:.04em}
.warnings{list-style:none;padding:0;margin:0;display:grid;gap:6px}
.warnings li{background:var(--warnbg);color:var(--warn);border-radius:8px;padding:8px 12px}
.warnings li.bad{background:var(--badbg);color:var(--bad)}
.tag{display:inline-block;font-size:11px;font-weight:600;border-radius:999px;padding:1px 8px;
margin-left:8px;vertical-align:2px;background:#eef2ff;color:var(--accent)}
.tag.numeric{background:#e0f2fe;color:#0369a1}.tag.categorical{background:#ede9fe;color:#6d28d9}
.tag.text{background:#fce7f3;color:#9d174d}.tag.boolean{background:#dcfce7;color:#15803d}
.tag.datetime{background:#ffedd5;color:#c2410c}
.column{background:var(--card);border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);
padding:18px 20px;margin:14px 0;display:grid;grid-template-columns:minmax(260px,340px) 1fr;gap:24px}
.column .head{grid-column:1/-1;display:flex;align-items:baseline;justify-content:space-between}
.column .head .sub{color:var(--muted);font-size:12px}
table.stats{border-collapse:collapse;width:100%}table.stats td{padding:3px 0;
border-bottom:1px solid var(--line)}table.stats td:last-child{text-align:right;
font-variant-numeric:tabular-nums}
.bar{height:6px;background:var(--line);border-radius:3px;overflow:hidden;margin:6px 0 10px}
.bar span{display:block;height:100%;background:#f59e0b}
.chart{min-width:0}.chart svg{width:100%;height:auto;display:block}
svg.heatmap{max-width:100%;height:auto;display:block}svg.legend{display:block;margin-top:6px}
.note{color:var(--muted);font-size:12px}
nav.toc{display:flex;flex-wrap:wrap;gap:6px;margin-top:8px}nav.toc a{font-size:12px;
text-decoration:none;color:var(--accent);background:#eef2ff;border-radius:6px;padding:2px 8px}
footer{color:var(--muted);font-size:12px;margin-top:40px}footer dt{font-weight:600;
color:var(--ink)}footer dd{margin:0 0 6px}
"""

_BAD_WARNINGS = ("all_missing", "constant", "invalid_utf8", "mixed_types")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "–"
        if value != 0 and (abs(value) >= 1e7 or abs(value) < 1e-3):
            return f"{value:.3e}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.3f}".rstrip("0").rstrip(".")
    return escape(str(value))


def _short(value: Any, limit: int = 28) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _histogram_svg(hist: dict[str, Any], numeric: bool) -> str:
    counts = hist.get("counts") or []
    edges = hist.get("edges") or []
    if not counts:
        return ""
    width, height, pad_left, pad_bottom = 560, 200, 44, 34
    plot_w, plot_h = width - pad_left - 10, height - pad_bottom - 10
    top = max(counts) or 1
    bar_w = plot_w / len(counts)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="histogram">',
        f'<line x1="{pad_left}" y1="{10 + plot_h}" x2="{width - 10}" y2="{10 + plot_h}" '
        'stroke="#9ca3af"/>',
    ]
    for tick in (0.0, 0.5, 1.0):
        y = 10 + plot_h - tick * plot_h
        parts.append(
            f'<line x1="{pad_left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" '
            'stroke="#eef0f3"/>'
            f'<text x="{pad_left - 6}" y="{y + 4:.1f}" font-size="10" fill="#6b7280" '
            f'text-anchor="end">{_fmt(round(top * tick))}</text>'
        )
    for i, count in enumerate(counts):
        h = plot_h * count / top
        x = pad_left + i * bar_w
        label = f"{_short(edges[i], 22)} – {_short(edges[i + 1], 22)}: {count:,}"
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{10 + plot_h - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}" rx="2" fill="#6366f1"><title>{escape(label)}</title></rect>'
        )
    if edges:
        first, last = edges[0], edges[-1]
        left = _fmt(first) if numeric else escape(_short(first, 19))
        right = _fmt(last) if numeric else escape(_short(last, 19))
        parts.append(
            f'<text x="{pad_left}" y="{height - 12}" font-size="11" fill="#374151">{left}</text>'
            f'<text x="{width - 10}" y="{height - 12}" font-size="11" fill="#374151" '
            f'text-anchor="end">{right}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _top_values_svg(values: list[dict[str, Any]]) -> str:
    if not values:
        return ""
    row_h, label_w, width = 24, 170, 560
    height = row_h * len(values) + 8
    top = max(v["count"] for v in values) or 1
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="top values">']
    for i, item in enumerate(values):
        y = 4 + i * row_h
        w = (width - label_w - 90) * item["count"] / top
        label = escape(_short(item["value"], 26))
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" font-size="12" fill="#374151" '
            f'text-anchor="end">{label}<title>{escape(str(item["value"]))}</title></text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row_h - 8}" '
            'rx="3" fill="#8b5cf6"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="11" fill="#6b7280">'
            f"{item['count']:,} ({item['pct']:.1f}%)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _color(value: float | None) -> str:
    if value is None:
        return "#f3f4f6"
    v = max(-1.0, min(1.0, value))
    # Diverging: blue for negative, white at 0, red for positive.
    if v >= 0:
        r, g, b = 255, int(255 - 170 * v), int(255 - 190 * v)
    else:
        r, g, b = int(255 + 200 * v), int(255 + 120 * v), 255
    return f"rgb({r},{g},{b})"


def _heatmap_svg(correlations: dict[str, Any]) -> str:
    names = correlations.get("columns") or []
    matrix = correlations.get("matrix") or []
    if len(names) < 2:
        return '<p class="note">Fewer than two numeric columns: no correlations.</p>'
    cell = max(18, min(54, 600 // len(names)))
    label_w = 130
    size = cell * len(names)
    width, height = label_w + size + 10, label_w + size + 10
    show_values = cell >= 34
    parts = [
        f'<svg class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="correlation heatmap">'
    ]
    for i, name in enumerate(names):
        label = escape(_short(name, 22))
        y = label_w + i * cell + cell / 2 + 4
        x = label_w + i * cell + cell / 2
        parts.append(
            f'<text x="{label_w - 6}" y="{y:.1f}" font-size="11" fill="#374151" '
            f'text-anchor="end">{label}</text>'
            f'<text transform="translate({x + 4:.1f},{label_w - 6}) rotate(-55)" font-size="11" '
            f'fill="#374151">{label}</text>'
        )
        for j, value in enumerate(matrix[i]):
            cx, cy = label_w + j * cell, label_w + i * cell
            tip = f"{names[i]} × {names[j]}: {_fmt(value)}"
            parts.append(
                f'<rect x="{cx}" y="{cy}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="{_color(value)}"><title>{escape(tip)}</title></rect>'
            )
            if show_values and value is not None:
                ink = "#fff" if abs(value) > 0.6 else "#111827"
                parts.append(
                    f'<text x="{cx + cell / 2 - 0.5:.1f}" y="{cy + cell / 2 + 4:.1f}" '
                    f'font-size="11" fill="{ink}" text-anchor="middle">'
                    f"{0.0 if abs(value) < 0.005 else value:.2f}</text>"
                )
    parts.append("</svg>")
    return "".join(parts) + _legend()


def _legend() -> str:
    stops = "".join(
        f'<stop offset="{(v + 1) / 2:.2f}" stop-color="{_color(v)}"/>'
        for v in (-1.0, -0.5, 0.0, 0.5, 1.0)
    )
    return (
        '<svg class="legend" width="260" height="34" viewBox="0 0 260 34" role="img" '
        'aria-label="colour scale"><defs><linearGradient id="corr-scale">'
        f'{stops}</linearGradient></defs><rect x="20" y="4" width="220" height="10" rx="3" '
        'fill="url(#corr-scale)"/><text x="20" y="28" font-size="10" fill="#6b7280">−1</text>'
        '<text x="130" y="28" font-size="10" fill="#6b7280" text-anchor="middle">0</text>'
        '<text x="240" y="28" font-size="10" fill="#6b7280" text-anchor="end">+1</text></svg>'
    )


def _stat_rows(column: dict[str, Any]) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        ("Values", column.get("count")),
        ("Missing", f"{_fmt(column.get('missing'))} ({column.get('missing_pct', 0):.1f}%)"),
        ("Distinct", ("" if column.get("distinct_exact") else "≈ ") + _fmt(column.get("distinct"))),
    ]
    kind = column.get("type")
    if kind == "numeric":
        quantiles = column.get("quantiles") or {}
        rows += [
            ("Mean", column.get("mean")),
            ("Std", column.get("std")),
            ("Min", column.get("min")),
            ("5%", quantiles.get("0.05")),
            ("25%", quantiles.get("0.25")),
            ("Median", column.get("median")),
            ("75%", quantiles.get("0.75")),
            ("95%", quantiles.get("0.95")),
            ("Max", column.get("max")),
            ("Skewness", column.get("skew")),
            ("Zeros", column.get("zeros")),
        ]
        outliers = column.get("outliers")
        if outliers:
            rows.append(("IQR outliers", f"{outliers['count']:,} ({outliers['pct']:.1f}%)"))
    elif kind == "datetime" and "min" in column:
        rows += [
            ("Min", column.get("min")),
            ("Median", column.get("median")),
            ("Max", column.get("max")),
        ]
    elif kind == "boolean":
        rows += [("True", column.get("true")), ("False", column.get("false"))]
    length = column.get("length")
    if length:
        rows += [
            ("Length (mean)", length.get("mean")),
            ("Length (min–max)", f"{_fmt(length.get('min'))}–{_fmt(length.get('max'))}"),
        ]
    return rows


def _column_html(index: int, column: dict[str, Any]) -> str:
    kind = column.get("type", "other")
    rows = "".join(
        f"<tr><td>{escape(k)}</td><td>{v if isinstance(v, str) else _fmt(v)}</td></tr>"
        for k, v in _stat_rows(column)
    )
    missing_pct = float(column.get("missing_pct") or 0.0)
    chart = ""
    if column.get("histogram"):
        chart = _histogram_svg(column["histogram"], numeric=kind == "numeric")
        caption = "Histogram" + ("" if kind != "numeric" else " (exact counts)")
        if column["histogram"].get("scale") == "log":
            caption += " · logarithmic bins"
    elif column.get("top_values"):
        chart = _top_values_svg(column["top_values"])
        caption = "Most frequent values" + ("" if column.get("top_values_exact") else " (approx.)")
    else:
        caption = "No chart for this column"
    return (
        f'<section class="column" id="col-{index}"><div class="head"><h3>'
        f'{escape(str(column.get("name")))}<span class="tag {escape(kind)}">{escape(kind)}</span>'
        f'</h3><span class="sub">{escape(str(column.get("physical_type", "")))}</span></div>'
        f'<div><div class="note">Missing {missing_pct:.1f}%</div>'
        f'<div class="bar" title="missing {missing_pct:.1f}%"><span style="width:'
        f'{min(missing_pct, 100):.1f}%"></span></div><table class="stats">{rows}</table></div>'
        f'<div class="chart"><div class="note">{caption}</div>{chart}</div></section>'
    )


def render_profile_html(profile: dict[str, Any], title: str = "Data profile") -> str:
    """Render a profile as one self-contained HTML page (inline CSS and SVG, no scripts).

    Args:
        profile: The dict :func:`~lakeworks.dataprep.profiling.profile_frame` returned.
        title: The page heading.

    Returns:
        The HTML document.
    """
    columns = profile.get("columns") or []
    rows = int(profile.get("rows") or 0)
    cells = rows * len(columns)
    missing = sum(int(c.get("missing") or 0) for c in columns)
    duplicates = (profile.get("duplicates") or {}).get("rows")
    kinds: dict[str, int] = {}
    for column in columns:
        kinds[column.get("type", "other")] = kinds.get(column.get("type", "other"), 0) + 1
    warnings = profile.get("warnings") or []
    sample = profile.get("sample") or {}
    cards = [
        ("Rows", _fmt(rows)),
        ("Columns", _fmt(len(columns))),
        ("Missing cells", f"{100.0 * missing / cells:.1f}%" if cells else "–"),
        ("Duplicate rows", _fmt(duplicates)),
        ("Warnings", _fmt(len(warnings))),
    ] + [(f"{k} columns", _fmt(v)) for k, v in sorted(kinds.items())]
    card_html = "".join(
        f'<div class="card"><div class="k">{escape(k)}</div><div class="v">{v}</div></div>'
        for k, v in cards
    )
    warning_html = (
        "".join(
            f'<li class="{"bad" if w.get("kind") in _BAD_WARNINGS else ""}">'
            f"<strong>{escape(str(w.get('kind', '')).replace('_', ' '))}</strong> · "
            f"{escape(str(w.get('message', '')))}</li>"
            for w in warnings
        )
        or "<li>No warnings.</li>"
    )
    toc = "".join(
        f'<a href="#col-{i}">{escape(_short(c.get("name"), 24))}</a>' for i, c in enumerate(columns)
    )
    subtitle = f"{rows:,} rows × {len(columns)} columns"
    if sample.get("method") in ("first", "random"):
        subtitle += f" · {sample['method']} {sample.get('rows', 0):,}-row sample"
        if sample.get("source_rows"):
            subtitle += f" of {sample['source_rows']:,}"
    notes = "".join(
        f"<dt>{escape(k.replace('_', ' '))}</dt><dd>{escape(v)}</dd>"
        for k, v in (profile.get("approximations") or {}).items()
    )
    body = (
        f"<header><h1>{escape(title)}</h1><p>{escape(subtitle)}</p></header><main>"
        f'<div class="cards">{card_html}</div>'
        f'<h2>Warnings</h2><ul class="warnings">{warning_html}</ul>'
        f'<h2>Correlations <span class="note">(Pearson)</span></h2>'
        f'<div class="card">{_heatmap_svg(profile.get("correlations") or {})}</div>'
        f'<h2>Columns</h2><nav class="toc">{toc}</nav>'
        + "".join(_column_html(i, c) for i, c in enumerate(columns))
        + f"<footer><h2>How these numbers were computed</h2><dl>{notes}</dl></footer></main>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )
