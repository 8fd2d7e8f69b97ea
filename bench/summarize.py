"""Rewrites the README's Benchmarks section, between `<!-- bench:start -->` and `<!-- bench:end -->`,
from bench/results/*.json: one compact table per benchmark with its key numbers, and under each the
machine, the date and the load average the JSON recorded, and links to the JSON and its plot; and
redraws every plot, bench/results/NAME.png, from its JSON (bench/plots.py).

    python bench/summarize.py [--check]     (--check: exit 1 if the README is out of date, write nothing)

A result file with no formatter below gets a one-line mention, so a new benchmark shows up even
before someone writes its table.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from plots import draw_all

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

Doc = dict[str, Any]
FORMATTERS: dict[str, Callable[[Doc], list[str]]] = {}


def formatter(function: Callable[[Doc], list[str]]) -> Callable[[Doc], list[str]]:
    FORMATTERS[function.__name__] = function
    return function


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


@formatter
def vs_handwritten(doc: Doc) -> list[str]:
    script, edgebuild, ratios, meets = doc["rows"]["script"], doc["rows"]["edgebuild"], doc["ratios"], doc["meets"]
    rows = [[name, pct(row["artifact_all_data"]), pct(row["artifact_test"]), row["size_bytes"], row["gzip_bytes"],
             f"{row['wall_seconds']:.0f}"]
            for name, row in (("hand-written TF-MOT script", script), ("`edgebuild build` (empty cache)", edgebuild))]
    rows.append(["edgebuild vs script", f"{ratios['accuracy_edgebuild_minus_script_points']:+.2f} points",
                 f"{ratios['test_accuracy_edgebuild_minus_script_points']:+.2f} points",
                 f"{ratios['size_edgebuild_over_script']:.2f}x", f"{ratios['gzip_edgebuild_over_script']:.2f}x",
                 f"{ratios['wall_edgebuild_over_script']:.2f}x"])
    return [("edgebuild against the TF-MOT script a user would write for the same digits job (int8 top-1 "
             "in LiteRT on all 1,797 digits, and on the 360-digit test split both hold out; wall time "
             "from outside the process):"), "",
            *table(["", "int8 top-1 all", "int8 top-1 test", "bytes", "gzip bytes", "wall s"], rows), "",
            (f"Targets (at least as accurate, gzip ≤ 1.5x, wall ≤ 1.5x): accuracy {yes(meets['at_least_as_accurate'])}, "
            f"gzip {yes(meets['gzip_within_1_5x'])}, wall {yes(meets['wall_within_1_5x'])}."),
            *stage_line(edgebuild.get("stage_seconds", {}))]


@formatter
def fashion(doc: Doc) -> list[str]:
    lines = []
    if "compare" in doc:
        lines += _fashion_compare(doc["compare"])
    if "pqat" in doc:
        int8 = doc["pqat"]["int8"]
        rows = [[name, pct(r["accuracy"]), pct(r["weight_zeros"]), r["size_bytes"], r["gzip_bytes"]]
                for name, r in int8.items()]
        lines += ["", "Full-int8 from the build's pruned student (50% zeros), measured in LiteRT:", "",
                  *table(["variant", "top-1 test", "weight zeros", "bytes", "gzip bytes"], rows), "",
                  f"PQAT's gzip is {100 * doc['pqat']['pqat_gzip_saving_vs_plain_qat']:.1f}% smaller than plain QAT's."]
    if "seeds" in doc:
        seeds, summary = doc["seeds"], doc["seeds"]["summary"]
        rows = [[kind, f"{100 * summary[kind]['mean']:.2f}% ± {100 * summary[kind]['std']:.2f}"]
                for kind in ("teacher", "none", "response")]
        setting = seeds.get("distill")
        weights = f", T {setting['temperature']:g}, alpha {setting['alpha']:g}" if setting else ""
        lines += ["", (f"Distillation vs scratch, float top-1 on the 10,000 test images, seeds {seeds['seeds']}, "
                       f"shortened runs (epochs {seeds['epochs']}{weights}):"), "",
                  *table(["training", "top-1"], rows), "",
                  f"Distilled minus from scratch: response {_gain(summary, 'response')}."]
    return lines


FASHION_TARGETS = {"top1_at_least_92_5": "int8 top-1 ≥ 92.5%", "at_most_256_kb": "≤ 256 KB",
                   "build_within_30_min": "build ≤ 30 min", "at_least_as_accurate_as_script": "at least as accurate",
                   "no_larger_than_script": "bytes ≤ script's", "gzip_no_larger_than_script": "gzip ≤ script's",
                   "wall_within_1_2x_script": "wall ≤ 1.2x script's", "build_report_passed": "build report passed"}


def _fashion_compare(compare: Doc) -> list[str]:
    rows = compare["rows"]
    script, edgebuild, ratios, meets = rows["script"], rows["edgebuild"], compare["ratios"], compare["meets"]
    table_rows = [["hand-written TF-MOT script", f"{100 * script['artifact_test_accuracy']:.2f}%", script["size_bytes"],
                   script["gzip_bytes"], *_wall_and_cpu(script["outside"])],
                  ["`edgebuild build fashion` (empty cache)", f"{100 * edgebuild['artifact_test']:.2f}%",
                   edgebuild["size_bytes"], edgebuild["gzip_bytes"], *_wall_and_cpu(edgebuild)],
                  ["edgebuild vs script", f"{ratios['top1_edgebuild_minus_script_points']:+.2f} points",
                   f"{ratios['size_edgebuild_over_script']:.4f}x", f"{ratios['gzip_edgebuild_over_script']:.4f}x",
                   f"{ratios['wall_edgebuild_over_script']:.2f}x", ""]]
    npu_name, npu = next((name, row) for name, row in rows.items() if name.endswith("_same_cache"))
    return [("Fashion-MNIST (60,000 training, 10,000 test images, 28x28): edgebuild against the TF-MOT script a "
             "competent user would write for the same job, both full-int8 (top-1 on the 10,000 test images in LiteRT; "
             "wall time from outside the process; CPU s is user + system time of the process and its children, so "
             "2 x wall - CPU is time the 2 cores sat idle):"), "",
            *table(["", "int8 top-1", "bytes", "gzip bytes", "wall s", "CPU s"], table_rows), "",
            "Targets: " + ", ".join(f"{FASHION_TARGETS.get(name, name)} {yes(met)}" for name, met in meets.items()) + ".",
            *stage_line({stage["name"]: stage["seconds"] for stage in edgebuild["stages"]}),
            "", "The script's phases, seconds: " + ", ".join(f"{name} {sec:.0f}" for name, sec in script["phase_seconds"].items()) + ".",
            "", (f"The same recipe for {npu_name.removeprefix('edgebuild_').removesuffix('_same_cache')} from that cache: "
                 f"{npu['wall_seconds']:.0f} s, int8 top-1 {pct(npu['artifact_test'])}, report "
                 f"{'passed' if npu['report_passed'] else 'failed: ' + ', '.join(npu['failed_checks'])}.")]


def _wall_and_cpu(timing: Doc) -> list[str]:
    cpu = timing.get("cpu_seconds")  # recorded since 2026-12-04
    return [f"{timing['wall_seconds']:.0f}", f"{cpu:.0f}" if cpu is not None else "not recorded"]


def stage_line(stage_seconds: dict[str, float]) -> list[str]:
    if not stage_seconds:
        return []
    return ["", "edgebuild's stages, seconds: " + ", ".join(f"{name} {sec:.0f}" for name, sec in stage_seconds.items())
            + f" (sum {sum(stage_seconds.values()):.0f}; the rest is start-up and reporting)."]


@formatter
def build_system(doc: Doc) -> list[str]:
    rows = [[label, f"{doc[key]['seconds']:.1f}", ", ".join(doc[key].get("stages_run", [])) or "none"]
            for key, label in (("full_build", "full build, empty cache"), ("no_change_rebuild", "rebuild, nothing changed"),
                               ("conversion_only_rebuild", "rebuild, conversion setting changed"),
                               ("three_profiles_from_empty_cache", "3 profiles, empty cache"))]
    targets = doc.get("targets", {})
    return [*table(["build", "seconds", "stages run"], rows), "",
            (f"Conversion-only rebuild / full: {doc['conversion_only_share_of_full']} "
            f"(target {targets.get('conversion_only_share_of_full', '–')}); 3 profiles / 1: "
            f"{doc['three_profiles_over_one']} (target {targets.get('three_profiles_over_one', '–')}).")]


@formatter
def toolchain_distill(doc: Doc) -> list[str]:
    summary = doc["summary"]
    rows = [[kind, f"{100 * summary[kind]['mean']:.1f}% ± {100 * summary[kind]['std']:.1f}"]
            for kind in ("teacher", "none", "response", "feature")]
    return [(f"Float student top-1 on the test split, mean ± std over seeds {doc['seeds']} "
            "(none = from scratch, same student and epochs):"), "",
            *table(["training", "top-1"], rows), "",
            (f"Distilled minus from scratch: response {_gain(summary, 'response')}, feature {_gain(summary, 'feature')}"
             + (": a seed where scratch wins, so the gain is within the spread between seeds, not a sure one."
                if min(summary["response_minus_scratch_points"]["per_seed"]) < 0 else "."))]


def _gain(summary: Doc, kind: str) -> str:
    gain = summary[f"{kind}_minus_scratch_points"]
    return (f"{gain['mean']:+.2f} points (per seed " + ", ".join(f"{g:+.2f}" for g in gain["per_seed"]) + ")")


@formatter
def fuzz(doc: Doc) -> list[str]:
    rows = [[kind, sum(counts.values()), counts.get("verdict-pass", 0) + counts.get("verdict-fail", 0),
             counts.get("refused", 0), counts.get("crash", 0), counts.get("hang", 0)]
            for kind, counts in sorted(doc["mutations"].items())]
    cli = doc["cli"]
    return [(f"{doc['cases']:,} mutated .tflite files from {len(doc['seed_models'])} real seed models (seed "
             f"{doc['seed']}, {doc['seconds']:.0f} s) through the reader and every check that needs no interpreter:"),
            "", *table(["mutation", "cases", "verdicts (exit 0/1)", "refusals (exit 2)", "crashes", "hangs"], rows), "",
            (f"Peak RSS of a reader worker {doc['peak_rss_bytes'] / 2**20:.0f} MiB (address space capped at "
             f"{doc['worker_address_space_bytes'] / 2**30:.0f} GiB); the largest activation arena an accepted file "
             f"claimed: {_claimed(doc['largest_claimed_arena_bytes'])}, never allocated. Through `edgebuild verify` (the model run in its "
             f"child interpreter): {cli['cases']} of them, {cli['verdicts']} verdicts, {cli['refusals']} refusals in "
             f"one line, {cli['crashes']} crashes, {cli['hangs']} hangs, at most {cli['max_seconds']:.1f} s each, "
             f"peak RSS {(doc['peak_rss_cli_bytes'] or 0) / 2**20:.0f} MiB.")]


def _claimed(arena_bytes: int) -> str:
    """The fuzz run records claims up to 2^63 bytes; a damaged shape's can run to a thousand digits."""
    return f"{'at least ' if arena_bytes >= 2**63 else ''}{arena_bytes:.2g} bytes"


@formatter
def toolchain_quantization(doc: Doc) -> list[str]:
    int8 = doc["runs"][0]["int8"]
    rows = [[name, pct(r["accuracy"]), pct(r["accuracy_all_data"]), pct(r["weight_zeros"]),
             r["max_distinct_values_per_output_channel"], r["size_bytes"], r["gzip_bytes"]] for name, r in int8.items()]
    return [f"Full-int8 after pruning (and clustering), seed {doc['runs'][0]['seed']}, measured in LiteRT:", "",
            *table(["variant", "top-1 test", "top-1 all", "weight zeros", "max distinct / channel", "bytes", "gzip bytes"],
                   rows)]


@formatter
def fit_pareto(doc: Doc) -> list[str]:
    rows = []
    for candidate in doc["candidates"]:
        errors = candidate["predicted_vs_measured"]
        rows.append([candidate["student"], candidate["parameters"], pct(candidate["accuracy"]),
                     errors["size_bytes"]["measured"], f"{errors['size_bytes']['error_pct']:+.1f}%",
                     f"{errors['gzip_bytes']['error_pct']:+.1f}%", f"{errors['peak_memory_bytes']['error_pct']:+.1f}%",
                     f"{candidate['build_seconds']:.0f}"])
    return [(f"`edgebuild fit` predictions against each digits candidate built for real ({doc['profile']}; "
            f"chosen: {doc['chosen']}):"), "",
            *table(["student", "params", "int8 top-1", "bytes", "size err", "gzip err", "memory err", "build s"], rows),
            "", f"`edgebuild fit` wall time: median {doc['fit_wall_seconds']['median']} s."]


@formatter
def device_tools(doc: Doc) -> list[str]:
    arena = [[r["model"], r["size_bytes"], r["estimated_arena_bytes"], cell(r["tflm_arena_bytes"]),
              cell(r["tflm_over_estimate"])] for r in doc["arena"]]
    builds = [[r["profile"], r["accelerator_config"], r["system_config"], f"{r['npu_ops']}/{r['cpu_ops']}",
               f"{r['inference_ms']:.4f}", r["sram_bytes"], f"{r['weight_memory']} {r['weight_memory_bytes']}",
               r["compiled_bytes"], yes(r["passed"])] for r in doc["digits_builds"]]
    low, high = doc["tflm_over_estimate_range"]
    return [f"Tensor arena: edgebuild's estimate against what TFLite Micro allocated (untrained int8 students; "
            f"TFLite Micro's is {low:.2f}-{high:.2f}x the estimate: it adds persistent buffers and per-tensor "
            f"structs):", "",
            *table(["model", "bytes", "estimated arena", "TFLite Micro arena", "ratio"], arena), "",
            "The digits build for each Ethos-U profile, Vela's estimates (basis vendor-estimate):", "",
            *table(["profile", "NPU", "system", "NPU/CPU ops", "est. ms", "SRAM B", "weights B", "compiled B",
                    "passed"], builds)]


@formatter
def verify_latency(doc: Doc) -> list[str]:
    rows = [[r["model"], r["threads"], f"{r['edgebuild_p50_ms']:.3f}", f"{r['litert_median_ms']:.3f}",
             f"{r['ratio']:.2f}", judged(r, yes(r["within_tolerance"]))] for r in doc["latency_vs_litert_benchmark"]]
    runtimes = doc["litert_vs_tflite_runtime"]
    runtime_rows = [[r["model"], r["threads"], f"{r['litert_p50_ms']:.3f}", f"{r['litert_p95_ms']:.3f}",
                     f"{r['tflite_runtime_p50_ms']:.3f}", f"{r['tflite_runtime_p95_ms']:.3f}",
                     f"{r['tflite_runtime_over_litert_p50']:.2f}", judged(r, "yes")] for r in runtimes]
    wall, quiet = doc["verify_wall_time_float16_5mb"], doc["quiet_host"]
    return ["Host latency of `edgebuild verify` against LiteRT's benchmark_litert_model.py (medians of the judged pairs):",
            "", *table(["model", "threads", "edgebuild p50 ms", "LiteRT median ms", "ratio", "within ±15%"], rows), "",
            (f"The same `.tflite` in edgebuild's runner under {runtimes[0]['runtimes']['litert']} and under "
             f"{runtimes[0]['runtimes']['tflite_runtime']} (NumPy 1.x venv), same threads:"), "",
            *table(["model", "threads", "LiteRT p50 ms", "LiteRT p95 ms", "tflite-runtime p50 ms",
                    "tflite-runtime p95 ms", "p50 tflite-runtime / LiteRT (median of pairs)", "judged"], runtime_rows), "",
            (f"A pair is judged when other processes used under {quiet['busy_fraction_below']:.0%} of the CPUs while "
             f"it ran: {quiet['pairs_judged']} of {quiet['pairs']} were; the script waited {quiet['waited_s']:.0f} s "
             f"for a quiet host (at most {quiet['wait_total_s']:.0f} s). `edgebuild verify` of a "
             f"{wall['size_bytes']:,}-byte {wall['precision']} model: at most {wall['max_s']} s (target {wall['target_s']} s).")]


def judged(row: Doc, verdict: str) -> str:
    return verdict if row["judged"] else f"not judged: host busy in all {len(row['pairs'])} pairs"


@formatter
def scaling(doc: Doc) -> list[str]:
    fits = doc["fits"]
    image_rows = [[f"{p['images']:,}", f"{p['seconds']:.0f}", p["size_bytes"], p["gzip_bytes"], pct(p["accuracy"])]
                  for p in doc["by_images"]]
    width_rows = [[f"{p['width']:.2f}", p["parameters"], p["size_bytes"], p["gzip_bytes"], pct(p["accuracy"]),
                   f"{p['seconds']:.0f}"] for p in doc["by_width"]]
    return [(f"`edgebuild build {doc['recipe']} --profile {doc['profile']}`, each point a fresh process with an empty "
             "cache, timed from outside; the images are the digits, then shifted and noised copies of them:"), "",
            *table(["images", "wall s", "bytes", "gzip bytes", "int8 top-1"], image_rows), "",
            f"Wall time: {line_fit(fits['seconds_vs_images'], 's', '1,000 images', per=1000)}.", "",
            "The chosen student at other width multipliers, on the 1,797 digits:", "",
            *table(["width", "parameters", "bytes", "gzip bytes", "int8 top-1", "wall s"], width_rows), "",
            (f"Size: {line_fit(fits['size_bytes_vs_parameters'], 'bytes', 'parameter')}; gzip size: "
             f"{line_fit(fits['gzip_bytes_vs_parameters'], 'bytes', 'parameter')}."), "",
            (f"The {doc['recipe']} recipe stage by stage (the 1,797-image build; top-1 on the test split: the float "
             "model after each training stage, the int8 artifact in the interpreter at verify):"), "",
            *table(["stage", "seconds", "top-1", "parameters", "sparsity", "bytes", "gzip bytes"],
                   [[stage["name"], f"{stage['seconds']:.1f}", pct(stage["accuracy"]), cell(stage["parameters"]),
                     pct(stage["sparsity"]), cell(stage["size_bytes"]), cell(stage["gzip_bytes"])]
                    for stage in doc["digits_stages"]])]


@formatter
def latency_predictor(doc: Doc) -> list[str]:
    source = doc["source"]
    rows = [[group["device"], group["runtime"], group["precision"], group["lomo"]["models"],
             f"{group['lomo']['median_ape_pct']:.1f}%", f"{group['lomo']['p90_ape_pct']:.1f}%",
             f"{group['macs_only_lomo']['median_ape_pct']:.1f}%", f"{group['macs_only_lomo']['p90_ape_pct']:.1f}%"]
            for group in doc["groups"]]
    aim = doc["aim"]
    return [(f"Phone latency predicted from {source['package']} {source['version']} published timings, "
             f"leave-one-model-out (each model predicted by a fit on the other models only), absolute "
             f"percentage error; features: {', '.join(doc['features'])}; baseline: MACs only:"), "",
            *table(["device", "runtime", "precision", "models", "median APE", "p90 APE", "MACs-only median",
                    "MACs-only p90"], rows), "",
            f"Aim: median APE ≤ {aim['median_ape_pct_at_most']:g}% on the {aim['on']}: {yes(aim['reached'])}."]


@formatter
def precision_ladder(doc: Doc) -> list[str]:
    floor = doc["floor"]
    lines = [f"Every rung of `convert --search {doc['search_trials']}` on a CPU profile listing int8, int8_mixed, int16x8, float16 and "
             f"float32 (top-1 on the digits test split in LiteRT, host p50):", ""]
    for name, model in doc["models"].items():
        rows = [[rung["rung"], rung["name"], rung["precision"], ", ".join(rung["kept_float"]) or "–",
                 pct(rung["accuracy"]), rung["size_bytes"], rung["gzip_bytes"], f"{rung['host_latency_ms']:.4f}"]
                for rung in model["rungs"]]
        at_floor = model["at_floor"]
        ships = f"rung {at_floor['shipped']} ({at_floor['precision']}) ships" if at_floor["passed"] else "no rung ships"
        lines += [f"**{name}** (float {pct(model['float_accuracy'])}); at floor {floor['min_accuracy']:g} and drop "
                  f"{floor['max_drop_from_float']:g}: {ships}.", "",
                  *table(["rung", "tried", "precision", "kept float", "top-1", "bytes", "gzip", "host p50 ms"], rows),
                  ""]
    return lines[:-1]


def line_fit(fit: Doc, y_unit: str, x_unit: str, per: float = 1) -> str:
    return (f"{per * fit['slope']:.3g} {y_unit} per {x_unit} + {fit['intercept']:,.0f} {y_unit} "
            f"(least squares over {fit['points']} points, R² {fit['r_squared']})")


def cell(value: Any) -> str:
    return "–" if value is None else str(value)


def load_average(doc: Doc) -> str:
    recorded = _find_load_average(doc)
    if isinstance(recorded, list):
        return "load average " + "/".join(f"{value:.1f}" for value in recorded) + " (1/5/15 min, at the end)"
    if isinstance(recorded, dict):
        return f"load average {recorded['before'][0]:.1f} before, {recorded['after'][0]:.1f} after (1 min)"
    if isinstance(recorded, (int, float)):
        return f"load average {recorded:.1f} (1 min)"
    return "load average not recorded"


def _find_load_average(value: Any) -> Any:
    """The first `load_average*` entry, depth first: benchmarks record it at the top or beside a timing."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("load_average"):
                return item
        for item in value.values():
            found = _find_load_average(item)
            if found is not None:
                return found
    return None


def provenance(doc: Doc, path: Path) -> str:
    machine = doc.get("machine", {})
    cpu = machine.get("cpu") or machine.get("cpu_model") or "CPU not recorded"
    cores = machine.get("cores") or machine.get("logical_cores") or doc.get("host", {}).get("cpu_count", "?")
    date = doc.get("date") or time.strftime("%Y-%m-%d %H:%M UTC (file time)", time.gmtime(path.stat().st_mtime))
    command = doc.get("command")
    command = " ".join(command) if isinstance(command, list) else command
    plot = path.with_suffix(".png")
    return (f"*{cpu}, {cores} cores; {date}; {load_average(doc)}"
            + (f"; `{command}`" if command else "") + f"; [JSON](bench/results/{path.name})"
            + (f", [plot](bench/results/{plot.name})" if plot.exists() else "") + ".*")


def section() -> str:
    lines = ["Generated by `python bench/summarize.py` from `bench/results/*.json`; do not edit by hand.", ""]
    for path in sorted(RESULTS.glob("*.json")):
        doc = json.loads(path.read_text())
        lines.append(f"### {path.stem}")
        lines.append("")
        format_doc = FORMATTERS.get(path.stem)
        lines += format_doc(doc) if format_doc else ["No table for this benchmark yet; see the JSON."]
        lines += ["", provenance(doc, path), ""]
    return "\n".join(lines)


def rewritten(readme: str) -> str:
    if readme.count(START) != 1 or readme.count(END) != 1 or readme.index(START) > readme.index(END):
        raise SystemExit(f"error: {README}: expected one {START} followed by one {END}")
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{section()}{END}{tail}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the README is out of date; write nothing")
    args = parser.parse_args()
    if not args.check:
        draw_all(RESULTS)  # first: the README links only plots that exist
    current = README.read_text()
    updated = rewritten(current)
    if args.check:
        raise SystemExit(0 if updated == current else f"{README}: Benchmarks section is out of date")
    if updated != current:
        scratch = README.with_name(f".{README.name}.tmp")
        scratch.write_text(updated)
        os.replace(scratch, README)
    print(f"{README}: Benchmarks section from {len(list(RESULTS.glob('*.json')))} result files")


if __name__ == "__main__":
    main()
