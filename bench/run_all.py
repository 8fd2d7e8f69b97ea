"""Every benchmark, one after the other, then the README's Benchmarks section and the plots from their JSON.

    python bench/run_all.py [--all] [--only NAME ...] [--skip NAME ...] [--dry-run]

Each bench/*.py benchmark runs as a child process (one at a time: the machine has 2 cores and the
benchmarks time things) with its own time limit; a script that overruns is stopped with its whole
process group and reported, and the others still run. Each writes its own bench/results/NAME.json;
bench/summarize.py then draws bench/results/NAME.png from each and rewrites the README's
Benchmarks section from whatever JSON exists.
The default run is every benchmark but the slow fit_pareto and fashion: build_system, toolchain_distill,
toolchain_quantization, vs_handwritten, verify_latency, scaling, latency_predictor, device_tools, fuzz and
precision_ladder: 11.6 minutes on 2 cores (2026-12-01) before device_tools, which took 2.5 more (2026-12-02), fuzz,
1.7 more, precision_ladder, about 1 more (2026-12-02), and latency_predictor, which takes seconds; at most 47 (the sum
of the limits below) on a busy host; `--all` adds fit_pareto (about 20 more) and fashion (65 to about 85 more).
A script found in bench/ but not listed in BENCHMARKS runs too, with DEFAULT_LIMIT_MIN.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Helpers and scripts that are not benchmarks of their own (vs_handwritten runs handwritten_tfmot).
NOT_BENCHMARKS = {"common.py", "run_all.py", "summarize.py", "plots.py", "handwritten_tfmot.py", "toolchain_recipe.py",
                  "recipe_builds.py", "tflite_runtime_venv.py", "handwritten_fashion.py"}
DEFAULT_LIMIT_MIN = 15.0


@dataclass(frozen=True)
class Benchmark:
    expected_min: float  # from the script's docstring or a run on 2 shared cores
    limit_min: float
    slow: bool = False


# Expected: measured on 2 cores (the first four in one quiet run, 2026-11-23; the last two beside other work, 2026-12-01).
BENCHMARKS = {
    "build_system": Benchmark(expected_min=3, limit_min=5),
    "toolchain_distill": Benchmark(expected_min=3, limit_min=5),
    "toolchain_quantization": Benchmark(expected_min=2, limit_min=4),
    "vs_handwritten": Benchmark(expected_min=2, limit_min=4),
    # waits at most a minute in all for a quiet host; builds its tflite-runtime venv once (~10 s)
    "verify_latency": Benchmark(expected_min=3, limit_min=5),
    "scaling": Benchmark(expected_min=5, limit_min=7),
    # Vela and TFLite Micro on 8 untrained students, then the digits build for the Ethos-U profiles
    "device_tools": Benchmark(expected_min=3, limit_min=6),
    "fit_pareto": Benchmark(expected_min=20, limit_min=35, slow=True),
    # reads the committed tables, no TensorFlow: seconds (the minutes are rebuilding them: refit-latency)
    "latency_predictor": Benchmark(expected_min=0.1, limit_min=1),
    # 10,000 mutated models through the reader, 40 through `edgebuild verify`; 2026-12-02, beside other work
    "fuzz": Benchmark(expected_min=2, limit_min=6),
    # two small models × two ladder runs of six rungs (2026-12-02: 53 s)
    "precision_ladder": Benchmark(expected_min=1, limit_min=4),
    # Fashion-MNIST at full scale: `edgebuild build fashion` and the hand-written script back to back, PQAT vs
    # QAT, 3 seeds of distillation vs scratch; 2026-12-03, quiet: 65 min in all, the comparison 45 of them;
    # 2026-12-04, a slower machine: the comparison alone 65
    "fashion": Benchmark(expected_min=85, limit_min=120, slow=True),
}


def discovered() -> list[str]:
    return sorted(path.stem for path in HERE.glob("*.py") if path.name not in NOT_BENCHMARKS)


def selected(args: argparse.Namespace) -> list[str]:
    names = args.only or discovered()
    unknown = sorted(set(names + args.skip) - set(discovered()))
    if unknown:
        raise SystemExit(f"error: unknown benchmark(s) {', '.join(unknown)}: expected one of {', '.join(discovered())}")
    chosen = [name for name in names if name not in args.skip]
    if args.all or args.only:
        return chosen
    return [name for name in chosen if not BENCHMARKS.get(name, Benchmark(0, DEFAULT_LIMIT_MIN)).slow]


def run(name: str, limit_s: float) -> tuple[str, float]:
    """Runs bench/NAME.py in its own process group, so a time-out also stops the builds it started."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, str(HERE / f"{name}.py")], cwd=HERE.parent, start_new_session=True)
    try:
        status = "ok" if child.wait(timeout=limit_s) == 0 else f"failed (exit {child.returncode})"
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
        status = f"stopped at its time limit ({limit_s / 60:.1f} min)"
    return status, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also run the slow benchmarks fit_pareto and fashion")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME", help="run just these")
    parser.add_argument("--skip", nargs="+", default=[], metavar="NAME", help="do not run these")
    parser.add_argument("--limit-scale", type=float, default=1.0, help="multiply every time limit by this")
    parser.add_argument("--dry-run", action="store_true", help="list what would run and the expected time")
    args = parser.parse_args()

    names = selected(args)
    plans = {name: BENCHMARKS.get(name, Benchmark(DEFAULT_LIMIT_MIN, DEFAULT_LIMIT_MIN)) for name in names}
    for name, plan in plans.items():
        print(f"{name:<24} expected ~{plan.expected_min:g} min, limit {plan.limit_min * args.limit_scale:g} min")
    print(f"expected total ~{sum(plan.expected_min for plan in plans.values()):g} min; "
          f"skipped: {', '.join(sorted(set(discovered()) - set(names))) or 'none'}", flush=True)
    if args.dry_run:
        return

    outcomes = {}
    for name, plan in plans.items():
        print(f"--- {name}", flush=True)
        outcomes[name] = run(name, plan.limit_min * 60 * args.limit_scale)
    subprocess.run([sys.executable, str(HERE / "summarize.py")], check=False)
    print("\nbenchmark                status")
    for name, (status, seconds) in outcomes.items():
        print(f"{name:<24} {status}, {seconds / 60:.1f} min")
    print(f"total {sum(seconds for _, seconds in outcomes.values()) / 60:.1f} min")
    if any(status != "ok" for status, _ in outcomes.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
