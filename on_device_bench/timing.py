"""Times invoke(): warm-up first, then at least N runs and at least S seconds."""

from __future__ import annotations

import time
from array import array
from typing import Any, Dict, Sequence

import numpy as np


def time_invokes(interpreter: Any, *, runs: int, min_seconds: float, warmup: int) -> Sequence[float]:
    """Milliseconds of each timed invoke() after `warmup` untimed ones."""
    for _ in range(warmup):
        interpreter.invoke()
    # A packed array, not a list: a 2 µs model runs 500k times in a second, and a list of floats
    # (32 bytes each) added 16 MB to the peak RSS that is reported as the model's (checked).
    latencies_ms = array("d")
    started = time.perf_counter()
    while len(latencies_ms) < runs or time.perf_counter() - started < min_seconds:
        before = time.perf_counter()
        interpreter.invoke()
        latencies_ms.append((time.perf_counter() - before) * 1000.0)
    return latencies_ms


def summarize(latencies_ms: Sequence[float]) -> Dict[str, float]:
    # np.percentile's default is linear interpolation in every NumPy version; the keyword that
    # names it changed (interpolation= → method=), so leave it out.
    values = np.asarray(latencies_ms, dtype=np.float64)
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "mean": float(values.mean()),
        "min": float(values.min()),
        "max": float(values.max()),
    }


def histogram(latencies_ms: Sequence[float], bins: int = 40) -> Dict[str, Any]:
    """Counts over log-spaced edges from the fastest to the slowest run: a few slow invokes (a page fault,
    a preempted thread) sit on a tail a linear scale would squash the bulk of the runs against."""
    values = np.asarray(latencies_ms, dtype=np.float64)
    low, high = max(float(values.min()), 1e-6), max(float(values.max()), 1e-6)
    edges = np.geomspace(low, high, bins + 1) if high > low * 1.0001 else np.array([low, low * 1.0001])
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return {"edges_ms": [float(edge) for edge in edges], "counts": [int(count) for count in counts]}
