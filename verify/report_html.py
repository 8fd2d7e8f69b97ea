"""report.html: the report for people who judge a model by looking, in one self-contained file.

No script, no stylesheet or font from the network: inline CSS and SVG only, so the file opens from a CI
artifact, an e-mail or a laptop offline. The verdict and the check table come first; then how accuracy,
size and sparsity moved per stage, where the bytes and MACs are, the latency distribution with p50, p95
and p99 marked, and the fit candidates against the budgets. It renders from the report as a mapping, so a
section it does not know (one another version added) is still shown, as a table.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any, Callable

from edgebuild.verify.checks import BASES

# Sections drawn by their own renderer; every other non-empty field is drawn as a table.
_SKIPPED = {"schema_version", "title", "passed", "kind", "recipe", "model", "profile", "precision", "io_dtype"}
_BAR_HEIGHT, _LABEL_WIDTH, _CHART_WIDTH = 18, 230, 420
_COLOURS = {"bar": "#4c78a8", "over": "#d62728", "budget": "#222", "p50": "#2ca02c", "p95": "#ff7f0e",
            "p99": "#d62728"}
_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;
text-align:left;vertical-align:top}th{background:#f5f5f5}
.verdict{display:inline-block;padding:.1em .6em;border-radius:.3em;color:#fff;font-weight:bold}
.pass{background:#2ca02c}.fail{background:#d62728}.notrun{color:#777}.bad{color:#d62728;font-weight:bold}
.note{color:#555;font-size:.9em}svg{display:block;margin:.5em 0}svg text{font-size:11px;font-family:inherit}
code{font-size:.85em;word-break:break-all}
"""


def to_html(report: dict[str, Any]) -> str:
    """The page for a report (`Report.model_dump(mode="json")`, or any report.json read back)."""
    sections = [_checks(report), _stages(report), _layers(report), _latency(report), _fit(report)]
    handled = {"checks", "stages", "layers", "latency_ms", "fit"}
    sections += [_generic(name, value) for name, value in report.items()
                 if name not in handled | _SKIPPED and value not in (None, [], {})]
    verdict = "PASS" if report.get("passed") else "FAIL"
    title = escape(str(report.get("title", "report")))
    facts = " · ".join(escape(f"{name}: {report[name]}") for name in ("kind", "profile", "precision", "io_dtype")
                       if report.get(name))
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}: {verdict}</title>"
            f"<style>{_STYLE}</style></head><body>\n<h1>{title} <span class=\"verdict {verdict.lower()}\">{verdict}"
            f"</span></h1>\n<p class=\"note\">{facts}</p>\n" + "\n".join(part for part in sections if part)
            + "\n</body></html>\n")


def _checks(report: dict[str, Any]) -> str:
    rows = []
    for check in report.get("checks", []):
        if not check.get("ran", True):
            result = f"<span class=\"notrun\">not run: {escape(check.get('reason') or '')}</span>"
        elif check.get("passed"):
            result = "pass"
        else:
            result = f"<span class=\"bad\">FAIL</span>: {escape(check.get('reason') or '')}"
        rows.append([escape(check["name"]), _cell(check.get("value")), _cell(check.get("limit")),
                     escape(str(check.get("basis", ""))), result])
    bases = dict.fromkeys(check.get("basis") for check in report.get("checks", []))
    legend = "; ".join(f"{escape(str(basis))} = {escape(BASES.get(basis, str(basis)))}" for basis in bases)
    return ("<h2>Checks</h2>" + _table(["check", "value", "limit", "basis", "result"], rows)
            + f"<p class=\"note\">Basis: {legend}.</p>")


def _stages(report: dict[str, Any]) -> str:
    stages = report.get("stages") or []
    charts = []
    for field, title, formatter in (("accuracy", "Test top-1 after each stage", _fraction),
                                    ("size_bytes", "Size after each stage (Keras variables, then the .tflite)",
                                     _bytes),
                                    ("sparsity", "Kernel zeros after each stage", _fraction)):
        points = [(stage["name"], stage[field]) for stage in stages if isinstance(stage.get(field), (int, float))]
        if points:
            charts.append(f"<h3>{escape(title)}</h3>" + _bar_chart(points, formatter, chart_id=f"stages-{field}"))
    if not charts:
        return ""
    return "<h2>Stages</h2>" + "".join(charts)


def _layers(report: dict[str, Any]) -> str:
    layers = report.get("layers") or []
    if not layers:
        return ""
    label = [f"{layer['index']} {layer['op']}" for layer in layers]
    weights = _bar_chart(list(zip(label, (layer["weight_bytes"] for layer in layers))), _bytes,
                         chart_id="layers-bytes")
    macs = _bar_chart(list(zip(label, (layer["macs"] for layer in layers))), _count, chart_id="layers-macs")
    rows = [[_cell(layer["index"]), _cell(layer["op"]), _cell(layer["output"]),
             _cell("x".join(map(str, layer["output_shape"]))), _cell(_bytes(layer["weight_bytes"])),
             _cell(_count(layer["macs"]))] for layer in layers]
    return ("<h2>Layers</h2><p class=\"note\">Each op in execution order: the constant tensors it reads (weights, "
            f"biases) and its multiply-accumulates; {_count(sum(layer['macs'] for layer in layers))} MACs in all."
            "</p><h3>Weight bytes per op</h3>" + weights + "<h3>MACs per op</h3>" + macs
            + _table(["#", "op", "output", "shape", "weight bytes", "MACs"], rows))


def _latency(report: dict[str, Any]) -> str:
    latency = report.get("latency_ms")
    if not latency:
        return ""
    figures = {name: latency[name] for name in ("p50", "p95", "p99", "mean", "min", "max") if name in latency}
    summary = _table(list(figures), [[_cell(_milliseconds(value)) for value in figures.values()]])
    histogram = latency.get("histogram")
    chart = _histogram(histogram, {name: latency[name] for name in ("p50", "p95", "p99")}) if histogram else \
        "<p class=\"note\">No distribution in this report (made before histograms were recorded).</p>"
    return (f"<h2>Host latency</h2><p class=\"note\">{escape(str(latency.get('note', '')))}; "
            f"{latency.get('runs', '?')} runs after {latency.get('warmup', '?')} warm-up, "
            f"{latency.get('threads', '?')} threads.</p>" + summary + chart)


def _fit(report: dict[str, Any]) -> str:
    fit = report.get("fit")
    if not fit or not fit.get("candidates"):
        return ""
    limits = {check["name"]: check["limit"] for check in report.get("checks", [])
              if isinstance(check.get("limit"), (int, float)) and not isinstance(check.get("limit"), bool)}
    charts = []
    for figure, check, formatter in (("size_bytes", "size_bytes", _bytes), ("gzip_bytes", "gzip_bytes", _bytes),
                                     ("peak_memory_bytes", "peak_memory_bytes", _bytes),
                                     ("host_latency_ms", "host_latency_p50_ms", _milliseconds)):
        points = [(f"{candidate.get('student') or 'student'}{' (chosen)' if _chosen(fit, candidate) else ''}",
                   candidate["predicted"][figure]) for candidate in fit["candidates"]
                  if isinstance(candidate.get("predicted", {}).get(figure), (int, float))]
        if points:
            budget = limits.get(check)
            title = f"Predicted {figure}" + (f" against the budget {formatter(budget)}" if budget else "")
            charts.append(f"<h3>{escape(title)}</h3>" + _bar_chart(points, formatter, limit=budget,
                                                                 chart_id=f"fit-{figure}"))
    rows = [[_cell(candidate.get("student") or "student"), "yes" if candidate.get("fits") else "no",
             _cell("; ".join(candidate.get("reasons", [])))] for candidate in fit["candidates"]]
    return (f"<h2>Fit: student candidates against {escape(str(fit.get('profile', '')))}</h2>"
            f"<p class=\"note\">Predicted before training; chosen: {escape(str(fit.get('chosen')))}.</p>"
            + "".join(charts) + _table(["candidate", "fits", "why not"], rows))


def _chosen(fit: dict[str, Any], candidate: dict[str, Any]) -> bool:
    return candidate.get("student") is not None and candidate.get("student") == fit.get("chosen")


def _generic(name: str, value: Any) -> str:
    """A section this renderer has no chart for: a list of mappings is a table, a mapping a two-column one."""
    heading = f"<h2>{escape(name.replace('_', ' ').capitalize())}</h2>"
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        columns = list(dict.fromkeys(key for item in value for key in item))
        return heading + _table(columns, [[_cell(item.get(column)) for column in columns] for item in value])
    if isinstance(value, dict):
        return heading + _table(["field", "value"], [[escape(str(key)), _cell(item)] for key, item in value.items()
                                                     if item is not None])
    return heading + f"<p>{_cell(value)}</p>"


def _bar_chart(points: list[tuple[str, float]], formatter: Callable[[float], str], *, limit: float | None = None,
               chart_id: str) -> str:
    """Horizontal bars, one per point, labelled; `limit` draws a budget line and colours the bars beyond it."""
    scale_max = max([value for _, value in points] + ([limit] if limit else [])) or 1
    height = _BAR_HEIGHT * len(points) + 24
    width = _LABEL_WIDTH + _CHART_WIDTH + 90
    parts = [f'<svg id="{chart_id}" class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img">']
    for row, (label, value) in enumerate(points):
        y = row * _BAR_HEIGHT + 4
        length = _CHART_WIDTH * max(value, 0) / scale_max
        colour = _COLOURS["over"] if limit is not None and value > limit else _COLOURS["bar"]
        parts.append(f'<text x="{_LABEL_WIDTH - 6}" y="{y + 12}" text-anchor="end">{escape(_short(label))}</text>'
                     f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{_BAR_HEIGHT - 5}" '
                     f'fill="{colour}"><title>{escape(label)}: {escape(formatter(value))}</title></rect>'
                     f'<text x="{_LABEL_WIDTH + length + 4:.1f}" y="{y + 12}">{escape(formatter(value))}</text>')
    if limit:
        x = _LABEL_WIDTH + _CHART_WIDTH * limit / scale_max
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - 14}" stroke="{_COLOURS["budget"]}" '
                     f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{height - 2}" text-anchor="middle">budget '
                     f'{escape(formatter(limit))}</text>')
    return "".join(parts) + "</svg>"


def _histogram(histogram: dict[str, list], marks: dict[str, float]) -> str:
    """Counts per log-spaced bin, the x axis in log milliseconds, with p50, p95 and p99 as labelled lines."""
    edges, counts = histogram["edges_ms"], histogram["counts"]
    width, height, left, bottom = 720, 240, 50, 40
    low, high = math.log10(edges[0]), math.log10(edges[-1])
    span = (high - low) or 1.0

    def x_of(ms: float) -> float:
        return left + (width - left - 10) * (math.log10(max(ms, edges[0])) - low) / span

    tallest = max(counts) or 1
    parts = [f'<svg id="latency-histogram" class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" role="img">',
             f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" stroke="#999"/>']
    for count, start, end in zip(counts, edges, edges[1:]):
        bar = (height - bottom - 20) * count / tallest
        parts.append(f'<rect x="{x_of(start):.1f}" y="{height - bottom - bar:.1f}" '
                     f'width="{max(x_of(end) - x_of(start) - 1, 1):.1f}" height="{bar:.1f}" fill="{_COLOURS["bar"]}">'
                     f'<title>{start:.4g}–{end:.4g} ms: {count} runs</title></rect>')
    for exponent in range(math.floor(low), math.ceil(high) + 1):
        tick = 10.0 ** exponent
        if edges[0] <= tick <= edges[-1]:
            parts.append(f'<text x="{x_of(tick):.1f}" y="{height - bottom + 14}" text-anchor="middle">'
                         f'{tick:g} ms</text>')
    for row, (name, value) in enumerate(marks.items()):
        x = x_of(value)
        parts.append(f'<line class="mark" x1="{x:.1f}" x2="{x:.1f}" y1="12" y2="{height - bottom}" '
                     f'stroke="{_COLOURS[name]}" stroke-width="2"/><text x="{x + 3:.1f}" y="{12 + 12 * row}" '
                     f'fill="{_COLOURS[name]}">{name} {value:.4g} ms</text>')
    parts.append(f'<text x="{left}" y="{height - 6}">invoke time, log scale; bar height: runs</text>')
    return "".join(parts) + "</svg>"


def _table(columns: list[str], rows: list[list[str]]) -> str:
    """`rows` hold HTML cells: `_cell` output, or text the caller escaped."""
    head = "".join(f"<th>{escape(str(column))}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return escape(f"{value:.4g}")
    if isinstance(value, (list, tuple)) and all(not isinstance(item, (dict, list)) for item in value):
        return escape(", ".join(str(item) for item in value) or "none")
    if isinstance(value, (dict, list)):
        return f"<code>{escape(json.dumps(value, default=str))}</code>"
    return "" if value is None else escape(str(value))


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def _bytes(value: float) -> str:
    for unit, size in (("MB", 1e6), ("kB", 1e3)):
        if value >= size:
            return f"{value / size:.3g} {unit}"
    return f"{value:.0f} B"


def _count(value: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:.0f}"


def _fraction(value: float) -> str:
    return f"{value:.1%}"


def _milliseconds(value: float) -> str:
    return f"{value:.4g} ms"
