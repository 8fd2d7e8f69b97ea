"""A report as a few lines a person reads; figures a tool did not give show as "n/a"."""

from __future__ import annotations

from typing import Any, Dict, Optional

_MIB = float(1 << 20)


def format_summary(report: Dict[str, Any]) -> str:
    runtime = report["runtime"]
    threads = report["threads"]
    where = " on {}".format(report["device"]) if report.get("device") else ""
    latency = report["latency_ms"]
    memory = report["memory"]
    lines = [
        "{}{} ({} {}, {} thread{})".format(
            report["model"]["path"], where, runtime["name"], runtime["version"],
            threads, "" if threads == 1 else "s",
        ),
        "latency ms: " + "  ".join(
            "{} {}".format(key, _number(latency.get(key), "{:.3f}"))
            for key in ("p50", "p95", "p99", "mean", "min", "max")
        ),
        "runs: {} timed after {} warm-up; init {} ms".format(
            report["runs"], report["warmup"], _number(report["init_ms"], "{:.1f}")
        ),
        "memory: model {} MiB (peak {} MiB, baseline {} MiB)".format(
            *(_number(_mib(memory[key]), "{:.1f}")
              for key in ("model_rss_bytes", "peak_rss_bytes", "baseline_rss_bytes"))
        ),
    ]
    accuracy = report.get("accuracy")
    if accuracy is not None:
        lines.append("accuracy: top-1 {:.2%} on {} samples".format(accuracy["top1"], accuracy["samples"]))
    if report.get("not_measured"):
        lines.append("not measured by this tool: " + ", ".join(report["not_measured"]))
    return "\n".join(lines) + "\n"


def _mib(value: Optional[float]) -> Optional[float]:
    return None if value is None else value / _MIB


def _number(value: Optional[float], pattern: str) -> str:
    return "n/a" if value is None else pattern.format(value)
