"""Benchmark `edgebuild verify`: its host latency against LiteRT's own benchmark, and its wall time.

    python bench/verify_latency.py

(1) For a small int8 CNN, a larger float32 CNN and a ~5 MB float16 dense model, at 1 and 2 threads:
    edgebuild's host p50 (`edgebuild verify --json`, default timing) against the median of
    ai_edge_litert/tools/benchmark_litert_model.py (shipped in the ai-edge-litert wheel), given the
    same thread count, warm-up and number of runs, back to back as one pair, REPEATS pairs.
    The host is shared: other builds ran beside this one and moved single p50s by 2-3x in both tools.
    So each pair records the share of all CPUs that other processes used while it ran (busy time in
    /proc/stat minus this script's children's CPU time), the script waits for an idle host before a
    pair (at most QUIET_WAIT_PER_PAIR_S, QUIET_WAIT_TOTAL_S in all), and only pairs run while others
    used under QUIET_BUSY_FRACTION are judged: the row's ratio is the median of their ratios. A row
    without such a pair is recorded as not judged, with its numbers.
(2) The wall time of `edgebuild verify` (default timing: >= 50 runs and >= 1 s) on the float16 model.

Writes bench/results/verify_latency.json with the machine, the tool versions, every command and number.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path
from typing import NamedTuple

import numpy as np

from edgebuild import tfenv
from edgebuild.report import write_atomically
from edgebuild.verify.host import describe_host

RESULTS = Path(__file__).resolve().parent / "results" / "verify_latency.json"
LITERT_BENCHMARK = Path(find_spec("ai_edge_litert").submodule_search_locations[0]) / "tools" / "benchmark_litert_model.py"
PROFILE = "raspberry-pi-4"  # runs int8 and float32; the check verdicts do not matter here, the timings do
FLOAT16_PROFILE = "iphone"
THREAD_COUNTS = (1, 2)
REPEATS = 8
WALL_TIME_REPEATS = 8
TOLERANCE = 0.15  # the issue's ±15 %
WARMUP_RUNS = 3  # edgebuild's runner default; LiteRT's script is given the same
QUIET_BUSY_FRACTION = 0.1  # of all CPUs, used by processes other than this script's children
QUIET_WAIT_PER_PAIR_S = 180.0
QUIET_WAIT_TOTAL_S = 3600.0


def main() -> None:
    tfenv.tensorflow(seed=0)
    import tf_keras as keras

    with tempfile.TemporaryDirectory(prefix="verify-latency-") as scratch:
        models = _build_models(keras, Path(scratch))
        deadline = time.monotonic() + QUIET_WAIT_TOTAL_S
        comparisons = [_compare(name, path, threads, deadline)
                       for name, path in models.items() for threads in THREAD_COUNTS]
        wall_time = _verify_wall_time(models["float16_dense_5mb"])
        sizes = {name: path.stat().st_size for name, path in models.items()}
    results = {
        "command": "python bench/verify_latency.py",
        "machine": describe_host().as_dict(),
        "versions": tfenv.tool_versions(),
        "models_size_bytes": sizes,
        "latency_vs_litert_benchmark": comparisons,
        "all_judged_within_tolerance": all(row["within_tolerance"] is not False for row in comparisons),
        "verify_wall_time_float16_5mb": wall_time,
    }
    write_atomically(RESULTS, (json.dumps(results, indent=2) + "\n").encode())
    for row in comparisons:
        verdict = {True: "", False: "  OUTSIDE ±15%", None: "  not judged: host busy"}[row["within_tolerance"]]
        print(f"{row['model']:<20} threads {row['threads']}: edgebuild p50 {row['edgebuild_p50_ms']:.3f} ms, "
              f"LiteRT median {row['litert_median_ms']:.3f} ms, ratio {row['ratio']:.3f} "
              f"({row['quiet_pairs']} quiet pairs){verdict}")
    print(f"verify of the {sizes['float16_dense_5mb']} B float16 model: max {wall_time['max_s']:.2f} s; wrote {RESULTS}")


def _build_models(keras, folder: Path) -> dict[str, Path]:
    layers = keras.layers
    # LiteRT's script rounds to 0.01 ms: the int8 CNN is sized for a p50 near 0.5 ms, not a few µs.
    small = _cnn(keras, (160, 160, 3), strided_widths=(32, 64, 128), classes=10)  # ~0.24M parameters, ~250 KB int8
    larger = _cnn(keras, (160, 160, 3), strided_widths=(32, 64, 128, 256), classes=1000)  # ~1.2M parameters, ~5 MB float32
    # 1024*1200 + 1200*1024 + 1024*10 ≈ 2.47M parameters: ~4.9 MB at two bytes each.
    dense = keras.Sequential([layers.Input((1024,)), layers.Dense(1200, activation="relu"),
                              layers.Dense(1024, activation="relu"), layers.Dense(10)])
    converted = {"int8_cnn_small": _converted(small, "int8", folder),
                 "float32_cnn_larger": _converted(larger, "float32", folder),
                 "float16_dense_5mb": _converted(dense, "float16", folder)}
    paths = {}
    for name, model_bytes in converted.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(model_bytes)
    return paths


def _cnn(keras, input_shape: tuple[int, ...], strided_widths: tuple[int, ...], classes: int):
    """Stride-2 3x3 convolutions, one more at the last width, global pooling, a dense head."""
    layers = keras.layers
    convolutions = [layers.Conv2D(width, 3, strides=2, activation="relu") for width in strided_widths]
    return keras.Sequential([layers.Input(input_shape), *convolutions,
                             layers.Conv2D(strided_widths[-1], 3, padding="same", activation="relu"),
                             layers.GlobalAveragePooling2D(), layers.Dense(classes)])


def _converted(model, precision: str, folder: Path) -> bytes:
    """Exported and converted the way `edgebuild build` does it."""
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert

    saved_model = folder / f"{model.name}-saved-model"
    export_saved_model(model, saved_model)
    calibration = np.random.default_rng(0).uniform(0, 1, (32, *model.input_shape[1:])).astype(np.float32)
    return convert(saved_model, precision, "int8" if precision == "int8" else "float32", calibration)


def _compare(name: str, path: Path, threads: int, quiet_deadline: float) -> dict:
    pairs = []
    for _ in range(REPEATS):
        _wait_for_quiet_host(min(quiet_deadline, time.monotonic() + QUIET_WAIT_PER_PAIR_S))
        pairs.append(_run_pair(path, threads))
    quiet = [pair for pair in pairs if pair["others_busy_fraction"] < QUIET_BUSY_FRACTION]
    judged = quiet or pairs
    ratio = statistics.median(pair["ratio"] for pair in judged)
    return {
        "model": name, "threads": threads, "quiet_pairs": len(quiet),
        "statistic": (f"medians over the {len(quiet)} of {REPEATS} pairs run while other processes used under "
                      f"{QUIET_BUSY_FRACTION:.0%} of the CPUs" if quiet else
                      f"not judged: other processes kept the CPUs busy in all {REPEATS} pairs; medians of all"),
        "edgebuild_p50_ms": statistics.median(pair["edgebuild"]["p50"] for pair in judged),
        "litert_median_ms": statistics.median(pair["litert"]["median_ms"] for pair in judged),
        "ratio": round(ratio, 4), "within_tolerance": abs(ratio - 1.0) <= TOLERANCE if quiet else None,
        "pairs": pairs,
        "commands": {"edgebuild": _edgebuild_command(path, "--threads", str(threads)),
                     "litert": _litert_command(path, threads, pairs[0]["edgebuild"]["runs"], Path("RESULT.json"))},
    }


def _run_pair(path: Path, threads: int) -> dict:
    before = _cpu_snapshot()
    edgebuild = _edgebuild_latency(path, threads)
    litert = _litert_latency(path, threads, edgebuild["runs"])
    return {"edgebuild": edgebuild, "litert": litert, "ratio": round(edgebuild["p50"] / litert["median_ms"], 4),
            "others_busy_fraction": _others_busy_since(before)}


def _edgebuild_command(path: Path, *options: str, profile: str = PROFILE) -> list[str]:
    return ["edgebuild", "verify", str(path), "--profile", profile, "--json", *options]


def _edgebuild_latency(path: Path, threads: int) -> dict:
    command = _edgebuild_command(path, "--threads", str(threads))
    # verify exits 1 when a check fails: its timings are still measured and reported.
    report = json.loads(_run([sys.executable, "-m", *command], ok_codes=(0, 1)).stdout)
    latency = report["latency_ms"]
    return {key: latency[key] for key in ("p50", "p95", "p99", "mean", "runs", "threads")}


def _litert_command(path: Path, threads: int, runs: int, result_json: Path) -> list[str]:
    # The script rounds to 0.01 ms, so the models are sized for p50 well above that.
    return ["python", str(LITERT_BENCHMARK), f"--model={path}", f"--num_threads={threads}", f"--num_runs={runs}",
            f"--warmup_runs={WARMUP_RUNS}", f"--result_json={result_json}"]


def _litert_latency(path: Path, threads: int, runs: int) -> dict:
    result_json = path.with_suffix(f".litert-{threads}.json")
    _run([sys.executable, *_litert_command(path, threads, runs, result_json)[1:]])
    latency = json.loads(result_json.read_text())["latency"]
    return {key: latency[key] for key in ("median_ms", "p95_ms", "avg_ms", "num_runs")}


def _verify_wall_time(path: Path) -> dict:
    command = _edgebuild_command(path, profile=FLOAT16_PROFILE)
    seconds, others_busy = [], []
    for _ in range(WALL_TIME_REPEATS):  # measured as found: a shared host is a real case for a CI gate
        before = _cpu_snapshot()
        finished = _run([sys.executable, "-m", *command], ok_codes=(0, 1))
        seconds.append(round(time.monotonic() - before.monotonic_s, 3))
        others_busy.append(_others_busy_since(before))
    report = json.loads(finished.stdout)
    return {"command": command, "size_bytes": report["artifact"]["size_bytes"],
            "precision": report["artifact"]["precision"], "runs": report["latency_ms"]["runs"],
            "threads": report["latency_ms"]["threads"], "seconds": seconds, "max_s": max(seconds),
            "others_busy_fraction": others_busy, "target_s": 20, "within_target": max(seconds) <= 20}


def _wait_for_quiet_host(deadline: float) -> None:
    while time.monotonic() < deadline:
        before = _cpu_snapshot()
        time.sleep(1.0)
        if _others_busy_since(before) < QUIET_BUSY_FRACTION:
            return


class _CpuSnapshot(NamedTuple):
    monotonic_s: float
    busy_s: float  # all processes, all CPUs
    children_s: float  # this script's finished children and their descendants


def _cpu_snapshot() -> _CpuSnapshot:
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:9]]
    busy_ticks = sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait; steal is time lost to the VM host
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return _CpuSnapshot(time.monotonic(), busy_ticks / os.sysconf("SC_CLK_TCK"), children.ru_utime + children.ru_stime)


def _others_busy_since(before: _CpuSnapshot) -> float:
    """The share of all CPUs that processes other than this script's children used since `before`."""
    now = _cpu_snapshot()
    others_s = (now.busy_s - before.busy_s) - (now.children_s - before.children_s)
    capacity_s = (now.monotonic_s - before.monotonic_s) * os.cpu_count()
    return round(min(max(others_s / capacity_s, 0.0), 1.0), 3)


def _run(argv: list[str], ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    finished = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    if finished.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(argv)} exited {finished.returncode}: {finished.stderr.strip()[-500:]}")
    return finished


if __name__ == "__main__":
    main()
