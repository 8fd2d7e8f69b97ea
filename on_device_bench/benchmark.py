"""One benchmark of one model: latency, memory and (with labelled data) top-1 accuracy."""

from __future__ import annotations

import os
from typing import Any, Dict, NamedTuple, Optional

from . import memory
from .accuracy import top1_accuracy
from .errors import BenchError, first_line
from .fingerprint import sha256_of
from .loading import check_readable, load_model
from .runtime import load_runtime
from .tensors import describe, fill_synthetic_inputs
from .timing import histogram, summarize, time_invokes


class BenchOptions(NamedTuple):
    model_path: str
    runs: int = 50
    min_seconds: float = 1.0
    warmup: int = 3
    threads: int = 1
    data_path: Optional[str] = None


def run_benchmark(options: BenchOptions) -> Dict[str, Any]:
    """The runner's JSON report as a dict; raises BenchError with a one-line reason."""
    if options.data_path is not None:
        check_readable(options.data_path, "data")
    runtime = load_runtime()
    baseline_rss_bytes = memory.current_rss_bytes()
    interpreter, init_ms = load_model(runtime, options.model_path, options.threads)
    fill_synthetic_inputs(interpreter)
    try:
        latencies_ms = time_invokes(
            interpreter, runs=options.runs, min_seconds=options.min_seconds, warmup=options.warmup
        )
    except Exception as error:  # noqa: BLE001 - the runtimes raise RuntimeError or ValueError
        raise BenchError("invoke failed: " + first_line(error), options.model_path)
    # Peak before --data is read, so the dataset's arrays do not count as the model's memory.
    peak_rss_bytes = memory.peak_rss_bytes()
    accuracy = top1_accuracy(interpreter, options.data_path) if options.data_path else None
    return {
        "runtime": {"name": runtime.name, "version": runtime.version},
        "model": {
            "path": options.model_path,
            "sha256": sha256_of(options.model_path),
            "size_bytes": os.path.getsize(options.model_path),
        },
        "threads": options.threads,
        "runs": len(latencies_ms),
        "warmup": options.warmup,
        "init_ms": init_ms,
        "latency_ms": summarize(latencies_ms),
        "latency_histogram": histogram(latencies_ms),
        "memory": {
            "baseline_rss_bytes": baseline_rss_bytes,
            "peak_rss_bytes": peak_rss_bytes,
            "model_rss_bytes": peak_rss_bytes - baseline_rss_bytes,
            "method": memory.measurement_method(),
        },
        "accuracy": accuracy,
        "inputs": describe(interpreter.get_input_details()),
        "outputs": describe(interpreter.get_output_details()),
    }

