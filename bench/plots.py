"""One plot per benchmark, drawn from its bench/results/NAME.json into bench/results/NAME.png.

bench/summarize.py calls `draw_all`, so the plots are redrawn from the JSON without rerunning a
benchmark. A result file with no function below gets no plot.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

Doc = dict[str, Any]
PLOTS: dict[str, Callable[[Doc], Any]] = {}
BLUE, ORANGE, GREEN, GREY = "tab:blue", "tab:orange", "tab:green", "tab:gray"


def plot(function: Callable[[Doc], Any]) -> Callable[[Doc], Any]:
    PLOTS[function.__name__] = function
    return function


def draw_all(results: Path) -> list[Path]:
    """NAME.png beside every NAME.json that has a plot function; the paths written."""
    plt = _pyplot()
    written = []
    for path in sorted(results.glob("*.json")):
        draw = PLOTS.get(path.stem)
        if draw is None:
            continue
        figure = draw(json.loads(path.read_text()))
        figure.tight_layout()
        figure.savefig(path.with_suffix(".png"), dpi=110)
        plt.close(figure)
        written.append(path.with_suffix(".png"))
    return written


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise SystemExit("error: the plots need matplotlib: pip install -e '.[bench]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def _figure(columns: int, title: str, width_per_column: float = 5.0):
    figure, axes = _pyplot().subplots(1, columns, figsize=(width_per_column * columns, 4), squeeze=False)
    figure.suptitle(title)
    return figure, list(axes[0])


def _bars(axes, labels: list[str], series: dict[str, list[float]], ylabel: str, value_format: str = "{:.3g}",
          log: bool = False, bottom: float = 0.0) -> None:
    """Grouped bars: one group per label, one bar per series, each with its value on top, and room
    above the tallest for the legend (`bottom` zooms a linear axis in; a log axis finds its own)."""
    positions = np.arange(len(labels))
    width = 0.8 / len(series)
    for index, (name, values) in enumerate(series.items()):
        bars = axes.bar(positions + (index - (len(series) - 1) / 2) * width, values, width, label=name)
        axes.bar_label(bars, [value_format.format(value) for value in values], fontsize=7, padding=2)
    axes.set_xticks(positions, labels, fontsize=8)
    axes.set_ylabel(ylabel)
    tallest = max(max(values) for values in series.values())
    if log:
        axes.set_yscale("log")
        low = axes.get_ylim()[0]
        axes.set_ylim(low, tallest * (tallest / low) ** 0.35)
        from matplotlib.ticker import FuncFormatter, LogLocator

        plain_numbers = FuncFormatter(lambda value, _: f"{value:g}")  # 0.2, not 2 × 10⁻¹
        axes.yaxis.set_minor_locator(LogLocator(subs=(2, 5)))
        axes.yaxis.set_major_formatter(plain_numbers)
        axes.yaxis.set_minor_formatter(plain_numbers)
    else:
        axes.set_ylim(bottom, bottom + (tallest - bottom) * 1.3)
    if len(series) > 1:
        axes.legend(fontsize=8, loc="upper center", ncol=len(series))
    axes.grid(axis="y", alpha=0.3)


def _fitted_line(axes, x: list[float], fit: dict, color: str, slope: str) -> None:
    ends = np.array([min(x), max(x)], dtype=float)
    axes.plot(ends, fit["slope"] * ends + fit["intercept"], color=color, linestyle="--",
              label=f"linear fit: {slope}, R² {fit['r_squared']}")


@plot
def build_system(doc: Doc) -> Any:
    builds = {"full build,\nempty cache": "full_build", "rebuild,\nnothing changed": "no_change_rebuild",
              "rebuild, conversion\nsetting changed": "conversion_only_rebuild",
              "3 profiles,\nempty cache": "three_profiles_from_empty_cache"}
    figure, (axes,) = _figure(1, "edgebuild build digits: wall time of each build (fresh process)", 7)
    _bars(axes, list(builds), {"seconds": [doc[key]["seconds"] for key in builds.values()]}, "seconds", "{:.1f}")
    return figure


@plot
def fit_pareto(doc: Doc) -> Any:
    figure, (axes,) = _figure(1, "digits student ladder: predicted size against built accuracy", 6)
    for candidate in doc["candidates"]:
        kib = candidate["predicted_size_bytes"] / 1024
        axes.scatter(kib, candidate["accuracy"], color=BLUE)
        axes.annotate(f"{candidate['student']} ({candidate['parameters']} params)", (kib, candidate["accuracy"]),
                      textcoords="offset points", xytext=(6, -12), fontsize=8)
    axes.set_xlabel(f"predicted int8 size, KiB ({doc['profile']}, before training)")
    axes.set_ylabel("top-1 of the built int8 artifact (test split)")
    axes.margins(x=0.25, y=0.15)
    axes.grid(alpha=0.3)
    return figure


@plot
def scaling(doc: Doc) -> Any:
    figure, (time_axes, size_axes) = _figure(2, f"edgebuild build {doc['recipe']} --profile {doc['profile']}: "
                                                "how it grows (each point a fresh build, empty cache)", 6)
    images = [p["images"] for p in doc["by_images"]]
    time_axes.scatter(images, [p["seconds"] for p in doc["by_images"]], color=BLUE, label="build")
    seconds_fit = doc["fits"]["seconds_vs_images"]
    _fitted_line(time_axes, images, seconds_fit, BLUE, f"{1000 * seconds_fit['slope']:.1f} s per 1,000 images")
    time_axes.set_xlabel("images (digits, then shifted and noised copies)")
    time_axes.set_ylabel("wall seconds")
    parameters = [p["parameters"] for p in doc["by_width"]]
    for key, color, label in (("size_bytes", BLUE, "bytes"), ("gzip_bytes", ORANGE, "gzip bytes")):
        size_axes.scatter(parameters, [p[key] for p in doc["by_width"]], color=color, label=label)
        size_fit = doc["fits"][f"{key}_vs_parameters"]
        _fitted_line(size_axes, parameters, size_fit, color, f"{size_fit['slope']:.2f} {label} per parameter")
    for p in doc["by_width"]:
        size_axes.annotate(f"width {p['width']:g}", (p["parameters"], p["size_bytes"]), textcoords="offset points",
                           xytext=(-20, 8), fontsize=8)
    size_axes.set_xlabel("parameters of the int8 artifact (student width multiplier)")
    size_axes.set_ylabel("artifact bytes")
    for axes in (time_axes, size_axes):
        axes.margins(x=0.08, y=0.12)
        axes.set_ylim(bottom=0)
        axes.legend(fontsize=8)
        axes.grid(alpha=0.3)
    return figure


@plot
def toolchain_distill(doc: Doc) -> Any:
    kinds = ["teacher", "none", "response", "feature"]
    figure, (axes,) = _figure(1, f"Float top-1 (test split), seeds {doc['seeds']}: none = student from scratch", 6)
    means = [100 * doc["summary"][kind]["mean"] for kind in kinds]
    axes.bar(kinds, means, yerr=[100 * doc["summary"][kind]["std"] for kind in kinds], color=BLUE, alpha=0.6,
             capsize=4, label="mean ± std")
    for run in doc["runs"]:
        axes.scatter(kinds, [100 * run[kind]["accuracy"] for kind in kinds], color=GREY, s=12, zorder=3)
    axes.set_ylim(min(means) - 3, 100)
    axes.set_ylabel("top-1, % (grey: each seed)")
    axes.grid(axis="y", alpha=0.3)
    return figure


@plot
def toolchain_quantization(doc: Doc) -> Any:
    run = doc["runs"][0]
    variants = list(run["int8"])
    figure, (accuracy, size) = _figure(2, f"Full-int8 after pruning (and clustering), seed {run['seed']}, in LiteRT", 6)
    _bars(accuracy, variants, {"test split": [100 * run["int8"][v]["accuracy"] for v in variants],
                               "all data": [100 * run["int8"][v]["accuracy_all_data"] for v in variants]},
          "top-1, %", "{:.1f}", bottom=min(100 * run["int8"][v]["accuracy"] for v in variants) - 3)
    _bars(size, variants, {"bytes": [run["int8"][v]["size_bytes"] for v in variants],
                           "gzip bytes": [run["int8"][v]["gzip_bytes"] for v in variants]}, "bytes", "{:,}")
    for axes in (accuracy, size):
        axes.tick_params(axis="x", labelrotation=30)
    return figure


@plot
def verify_latency(doc: Doc) -> Any:
    figure, (versus_litert, runtimes) = _figure(2, "Host latency, ms (log scale); * = pairs not judged: host busy", 7)
    rows = doc["latency_vs_litert_benchmark"]
    _bars(versus_litert, [_case(row) for row in rows],
          {"edgebuild verify p50": [row["edgebuild_p50_ms"] for row in rows],
           "LiteRT benchmark median": [row["litert_median_ms"] for row in rows]}, "ms", log=True)
    versus_litert.set_title("edgebuild verify vs LiteRT's benchmark script", fontsize=10)
    rows = doc["litert_vs_tflite_runtime"]
    _bars(runtimes, [_case(row) for row in rows],
          {f"{rows[0]['runtimes']['litert']} p50": [row["litert_p50_ms"] for row in rows],
           f"{rows[0]['runtimes']['tflite_runtime']} p50": [row["tflite_runtime_p50_ms"] for row in rows]},
          "ms", log=True)
    runtimes.set_title("the same .tflite under LiteRT and tflite-runtime", fontsize=10)
    return figure


@plot
def latency_predictor(doc: Doc) -> Any:
    precisions = sorted({group["precision"] for group in doc["groups"]})
    figure, panels = _figure(len(precisions), "Leave-one-model-out: predicted vs published phone latency, tflite runtime",
                             5.5)
    for axes, precision in zip(panels, precisions):
        groups = [g for g in doc["groups"] if g["runtime"] == "tflite" and g["precision"] == precision]
        values = []
        for group in groups:
            published = [row["published_ms"] for row in group["held_out"]]
            predicted = [row["predicted_ms"] for row in group["held_out"]]
            values += published + predicted
            axes.scatter(published, predicted, s=14, label=f"{group['device'].replace('Samsung ', '')}: median "
                         f"{group['lomo']['median_ape_pct']:.0f}%, p90 {group['lomo']['p90_ape_pct']:.0f}%")
        low, high = min(values) / 1.3, max(values) * 1.3
        axes.plot([low, high], [low, high], color=GREY, linewidth=0.8)
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_title(f"{precision} rows", fontsize=10)
        axes.set_xlabel("published ms")
        axes.set_ylabel("predicted ms (model held out of the fit)")
        axes.legend(fontsize=7)
        axes.grid(alpha=0.3)
    return figure


def _case(row: Doc) -> str:
    model = row["model"].replace("_", "\n", 1)
    return f"{model}\n{row['threads']} thr{'' if row['judged'] else ' *'}"


@plot
def vs_handwritten(doc: Doc) -> Any:
    sides = {"hand-written\nTF-MOT script": doc["rows"]["script"], "edgebuild build\n(empty cache)": doc["rows"]["edgebuild"]}
    figure, (accuracy, size, wall) = _figure(3, "digits, int8: edgebuild against the script a user would write", 4)
    _bars(accuracy, list(sides), {"all digits": [100 * side["artifact_all_data"] for side in sides.values()],
                                  "test split": [100 * side["artifact_test"] for side in sides.values()]},
          "int8 top-1, %", "{:.1f}", bottom=90)
    _bars(size, list(sides), {"bytes": [side["size_bytes"] for side in sides.values()],
                              "gzip bytes": [side["gzip_bytes"] for side in sides.values()]}, "bytes", "{:,}")
    _bars(wall, list(sides), {"wall s": [side["wall_seconds"] for side in sides.values()]}, "wall seconds", "{:.0f}")
    return figure
