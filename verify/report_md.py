"""report.md: the report's facts for people, verdict first."""

from __future__ import annotations

from typing import Any

from edgebuild.verify.checks import BASES
from edgebuild.verify.report import Report


def to_markdown(typed: Report) -> str:
    report = typed.model_dump(mode="json")
    verdict = "PASS" if report["passed"] else "FAIL"
    title = report.get("title", report["artifact"]["path"])
    lines = [f"# {title}: {verdict}", "", "| check | value | limit | basis | result |", "|---|---|---|---|---|"]
    for check in report["checks"]:
        passed = "pass" + (f": {check['reason']}" if check["reason"] else "")  # a passing check may carry a note
        result = (passed if check["passed"] else f"**FAIL**: {check['reason']}") if check["ran"] else \
            f"not run: {check['reason']}"
        lines.append(f"| {check['name']} | {_cell(check['value'])} | {_cell(check['limit'])} | {check['basis']} | "
                     f"{result} |")
    bases = dict.fromkeys(check["basis"] for check in report["checks"])
    lines += ["", "Basis: " + "; ".join(f"{basis} = {BASES.get(basis, basis)}" for basis in bases) + "."]
    lines += _artifact_lines(report["artifact"])
    if report.get("accuracy"):
        lines += ["", "## Accuracy (top-1)", ""] + [f"- {k}: {_cell(v)}" for k, v in report["accuracy"].items()
                                                    if v is not None]
    for section, render in _SECTIONS:  # each optional section, in this order, when the report has it
        if report.get(section):
            lines += render(report[section])
    if report.get("stages"):
        lines += ["", "## Stages", "", "| stage | seconds | accuracy | parameters | sparsity | cached |",
                  "|---|---|---|---|---|---|"]
        for stage in report["stages"]:
            lines.append(f"| {stage['name']} | {stage['seconds']:.1f} | {_cell(stage.get('accuracy'))} | "
                         f"{_cell(stage.get('parameters'))} | {_cell(stage.get('sparsity'))} | "
                         f"{'yes' if stage.get('cached') else 'no'} |")
    lines += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in report.get("versions", {}).items()]
    if report.get("inputs"):
        lines += ["", "## Inputs", ""] + [f"- {k}: {v}" for k, v in report["inputs"].items()]
    return "\n".join(lines) + "\n"


def _artifact_lines(artifact: dict[str, Any]) -> list[str]:
    return ["", "## Artifact", "", f"- sha256: `{artifact['sha256']}`",
            f"- size: {artifact['size_bytes']} B (gzip -9: {artifact['gzip_bytes']} B)",
            f"- precision: {artifact['precision']}, parameters: {artifact['parameters']}",
            f"- ops: {', '.join(f'{k}×{v}' for k, v in artifact['ops'].items())}"]


def _latency_lines(latency: dict[str, Any]) -> list[str]:
    runtime = latency["runtime"]
    heading = (f"## Host latency ({runtime['name']} {runtime['version']}, {latency['threads']} threads, "
               f"{latency['runs']} runs after {latency['warmup']} warm-up)")
    return ["", heading, "",
            f"p50 {latency['p50']:.4f} ms, p95 {latency['p95']:.4f} ms, p99 {latency['p99']:.4f} ms", "",
            f"{latency['note'][0].upper()}{latency['note'][1:]}."]


def _prediction_lines(prediction: dict[str, Any]) -> list[str]:
    source = prediction["source"]
    return ["", f"## Predicted latency on {prediction['device']} (a prediction, not a measurement)", "",
            f"p50 {prediction['p50_ms']:.4f} ms: {prediction['band']}.", "",
            f"Fitted on {source['package']} {source['version']} published timings "
            f"({source['table']}, sha256 {source['table_sha256'][:12]}…); {prediction['note']}."]


def _memory_lines(memory: dict[str, Any]) -> list[str]:
    measured = memory["measured_rss_delta_bytes"]
    return ["", "## Peak memory", "",
            "- measured: none, the model did not run" if measured is None else
            f"- measured: {measured} B (RSS growth of the child process running the model)",
            f"- estimated: {memory['estimated_bytes']} B (model + tensor arena of {memory['estimated_arena_bytes']} B)",
            f"- checked: {memory['checked_bytes']} B, {memory['method']}"]


def _npu_lines(npu: dict[str, Any]) -> list[str]:
    compiled = npu["compiled"]
    lines = ["", f"## Ethos-U NPU (Vela {npu['version']}: {npu['accelerator_config']}, {npu['system_config']}, "
                 f"{npu['memory_mode']}; basis {npu['basis']})", "",
             f"- {npu['npu_ops']} ops on the NPU, {npu['cpu_ops']} on the CPU",
             f"- estimated inference time {npu['inference_ms']:.4f} ms ({npu['inferences_per_second']:.1f}/s), "
             f"SRAM {npu['sram_bytes']} B, {npu['weight_memory']} {npu['weight_memory_bytes']} B",
             f"- compiled model: {compiled['path'] or 'not published'} ({compiled['size_bytes']} B, "
             f"sha256 `{compiled['sha256'][:16]}`)",
             "", "| op | Vela op | target | cycles | MACs | output tensor | why on the CPU |",
             "|---|---|---|---|---|---|---|"]
    for layer in npu["layers"]:
        lines.append(f"| {layer['op']} | {layer['vela_op']} | {layer['target']} | {layer['cycles']} | {layer['macs']} | "
                     f"`{layer['name']}` | {layer['reason'] or ''} |")
    return lines


def _micro_lines(micro: dict[str, Any]) -> list[str]:
    heading = f"## TFLite Micro ({micro['runtime']} {micro['version']}; basis {micro['basis']})"
    if micro["error"]:
        return ["", heading, "", f"- did not run: {micro['error']}"]
    top1 = f", top-1 {micro['top1']:.4f}" if micro["top1"] is not None else ""
    return ["", heading, "",
            f"- tensor arena allocated: {micro['arena_bytes']} B (RecordingMicroAllocator)",
            f"- {micro['samples']} samples{top1}; top-1 differs from LiteRT's on {micro['top1_disagreements']}, "
            f"largest output difference {_cell(micro['max_abs_output_diff'])}"]


def _search_lines(search: dict[str, Any]) -> list[str]:
    shipped = f"rung {search['shipped']} ships" if search["shipped"] else "no rung passed: the configured one is published"
    lines = ["", "## Precision search", "", f"{shipped}.", "",
             "| rung | tried | precision | kept float | accuracy | size | gzip | host p50 ms | passed | failed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for rung in search["rungs"]:
        lines.append(f"| {rung['rung']}{' (shipped)' if rung['shipped'] else ''} | {rung['name']} | "
                     f"{rung['precision']} | {', '.join(rung['kept_float']) or '-'} | {_cell(rung['accuracy'])} | "
                     f"{_cell(rung['size_bytes'])} | {_cell(rung['gzip_bytes'])} | {_cell(rung['host_latency_ms'])} | "
                     f"{'yes' if rung['passed'] else 'no'} | {'; '.join(rung['failed']) or '-'} |")
    return lines


def _baseline_lines(baseline: dict[str, Any]) -> list[str]:
    lines = ["", f"## Against the baseline {baseline['path']}", "", "| metric | baseline | now | change | tolerance |",
             "|---|---|---|---|---|"]
    for delta in baseline["deltas"]:
        lines.append(f"| {delta['metric']} | {_cell(delta['baseline'])} | {_cell(delta['now'])} | "
                     f"{delta['change']:+.4g} ({delta['change_pct']:+.1f}%) | +{delta['tolerance_pct']:g}% |")
    if baseline["not_compared"]:
        lines += [""] + [f"- not compared: {why}" for why in baseline["not_compared"]]
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return "" if value is None else str(value)


_SECTIONS = (("predicted_latency", _prediction_lines), ("latency_ms", _latency_lines), ("memory", _memory_lines),
             ("baseline", _baseline_lines), ("npu", _npu_lines), ("micro_runtime", _micro_lines),
             ("precision_search", _search_lines))
