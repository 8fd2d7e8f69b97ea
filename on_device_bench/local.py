"""The host side: benchmark a model in a child process, so a crashing or hanging model
(kernel CVEs exist for crafted but valid files) cannot take the caller down with it."""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
from typing import Any, Dict, Optional, Union

from .child_process import TimedOut, last_line, run_with_time_limit

RUNNER_MODULE = "edgebuild.on_device_bench"


PathLike = Union[str, "os.PathLike[str]"]


class RunnerFailed(Exception):
    """The runner crashed, hung or reported an error; the message is one line."""


def run_isolated(
    model_path: PathLike,
    *,
    runs: int = 50,
    min_seconds: float = 1.0,
    warmup: int = 3,
    threads: int = 1,
    data_path: Optional[PathLike] = None,
    timeout_s: float = 120.0,
    python: str = sys.executable,
) -> Dict[str, Any]:
    """The runner's JSON report for `model_path`, measured in a child `python`."""
    argv = [
        python, "-m", RUNNER_MODULE, os.path.abspath(model_path),
        "--runs", str(runs), "--min-seconds", str(float(min_seconds)), "--warmup", str(warmup),
        "--threads", str(threads), "--json",
    ]
    if data_path is not None:
        argv += ["--data", os.path.abspath(data_path)]
    # An empty working directory: `python -m` puts the cwd first on sys.path, and a checkout's
    # folders there would shadow the installed package.
    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-") as empty_cwd:
        try:
            finished = run_with_time_limit(argv, timeout_s=timeout_s, cwd=empty_cwd)
        except TimedOut as timed_out:
            raise RunnerFailed(str(timed_out))
        except OSError as error:
            raise RunnerFailed(f"cannot start {python}: {error.strerror or error}")
    report = parse_report(finished.returncode, finished.stdout, finished.stderr)
    report["model"]["path"] = os.fspath(model_path)
    return report


def parse_report(returncode: int, stdout: str, stderr: str) -> Dict[str, Any]:
    """The report a runner printed, or RunnerFailed naming the signal, error or silence."""
    if returncode < 0:
        raise RunnerFailed("interpreter crashed with " + _signal_name(-returncode))
    try:
        report = json.loads(stdout)
    except ValueError:
        report = None
    if not isinstance(report, dict):
        said = last_line(stderr) or last_line(stdout) or "nothing"
        raise RunnerFailed(f"runner exited with status {returncode} without a report, last said: {said}")
    if "error" in report or returncode != 0:
        raise RunnerFailed(str(report.get("error") or f"runner exited with status {returncode}"))
    return report


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
