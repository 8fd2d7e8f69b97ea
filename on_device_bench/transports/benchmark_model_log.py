"""Reads the log of TFLite's C++ `benchmark_model` (tflite/tools/benchmark/benchmark_model.cc).

The figures come from lines like these (prefixed "INFO: " on a shell, by logcat fields in logcat):
  Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if ...
  count=1 curr=5200                               <- warm-up runs (Stat::OutputToStream)
  Running benchmark for at least 50 iterations and at least 1 seconds but terminate if ...
  count=212 first=4810 curr=4702 min=4588 max=9021 avg=4711.5 std=301   <- timed runs, in us
  Inference timings in us: Init: 3512, First inference: 5200, Warmup (avg): 5200, Inference (avg): 4711.5
  Memory footprint delta from the start of the tool (MB): init=2.1 overall=3.4
Newer LiteRT builds append " p5=… median=… p95=…" to the count line (StatWithPercentiles,
nearest rank); older ones print no percentiles at all. Averages of large values come in
scientific notation ("avg=2.95034e+06"); a run whose times are all equal prints only
"count=N curr=X(all same)".
"""

from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Optional

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RUN_HEADER = re.compile(r"Running benchmark for at least \d+ iterations")
_STAT_LINE = re.compile(r"\bcount=(\d+)")
_STAT_FIELD = re.compile(rf"\b(first|curr|min|max|avg|std|p5|median|p95)=({_NUMBER})")
_TIMINGS = re.compile(
    rf"Inference timings in us: Init: ({_NUMBER}), First inference: ({_NUMBER}), "
    rf"Warmup \(avg\): ({_NUMBER}), Inference \(avg\): ({_NUMBER})"
)
_FOOTPRINT = re.compile(
    rf"Memory footprint delta from the start of the tool \(MB\): init=({_NUMBER}) overall=({_NUMBER})"
)


class RunStats(NamedTuple):
    count: int
    mean_us: float
    std_us: float
    min_us: float
    max_us: float
    median_us: Optional[float]
    p95_us: Optional[float]


class BenchmarkModelLog(NamedTuple):
    warmup: RunStats
    inference: RunStats
    init_us: float
    first_inference_us: float
    warmup_avg_us: float
    footprint_init_mb: Optional[float]
    footprint_overall_mb: Optional[float]


class UnreadableLog(ValueError):
    """The text lacks a line every successful benchmark_model run prints."""


def parse_benchmark_model_log(text: str) -> BenchmarkModelLog:
    runs = _run_stats(text.splitlines())
    if len(runs) < 2:
        raise UnreadableLog("no warm-up and timed run statistics (count=… lines)")
    timings = _TIMINGS.search(text)
    if timings is None:
        raise UnreadableLog("no 'Inference timings in us' line")
    init_us, first_inference_us, warmup_avg_us, _ = (float(value) for value in timings.groups())
    footprint = _FOOTPRINT.search(text)
    return BenchmarkModelLog(
        warmup=runs[0],
        inference=runs[1],
        init_us=init_us,
        first_inference_us=first_inference_us,
        warmup_avg_us=warmup_avg_us,
        footprint_init_mb=float(footprint.group(1)) if footprint else None,
        footprint_overall_mb=float(footprint.group(2)) if footprint else None,
    )


def _run_stats(lines: List[str]) -> List[RunStats]:
    """The statistics line after each "Running benchmark" header: warm-up first, then timed."""
    stats = []
    after_header = False
    for line in lines:
        if _RUN_HEADER.search(line):
            after_header = True
            continue
        count = _STAT_LINE.search(line)
        if after_header and count:
            stats.append(_stats_of(int(count.group(1)), dict(_STAT_FIELD.findall(line))))
            after_header = False
    return stats


def _stats_of(count: int, fields: Dict[str, str]) -> RunStats:
    if count == 0 or "curr" not in fields:
        raise UnreadableLog("a benchmark run recorded no invocations (count=0)")
    if "avg" not in fields:
        # "count=N curr=X(all same)": every run took X.
        same = float(fields["curr"])
        fields = dict(fields, min=str(same), max=str(same), avg=str(same), std="0")
    return RunStats(
        count=count,
        mean_us=float(fields["avg"]),
        std_us=float(fields["std"]),
        min_us=float(fields["min"]),
        max_us=float(fields["max"]),
        median_us=float(fields["median"]) if "median" in fields else None,
        p95_us=float(fields["p95"]) if "p95" in fields else None,
    )
