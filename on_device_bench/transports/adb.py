"""`adb:SERIAL`: push the model to an Android device and time it there with TFLite's own
`benchmark_model` binary, which the user has pushed (default /data/local/tmp/benchmark_model)."""

from __future__ import annotations

import os
import secrets
from typing import Any, Dict, List, Optional, Tuple

from ..child_process import Finished, TimedOut, last_line, run_with_time_limit
from ..fingerprint import sha256_of
from .benchmark_model_log import BenchmarkModelLog, UnreadableLog, parse_benchmark_model_log
from .registry import DeviceBenchOptions, TransportError, register_transport
from .session import Deadline, quoted_command, record_pid_then_exec, removal_command, run_then_clean_up

DEVICE_TMP = "/data/local/tmp"
# adb shell before Android 7 exits 0 whatever the command did: the command echoes its own status
# after this marker, and that is the status read.
_STATUS_MARKER = "__edgebuild_status="
_CLEANUP_TIMEOUT_S = 30.0
_MIB = 1 << 20


@register_transport("adb", "adb:SERIAL")
def bench_over_adb(device: str, model_path: str, options: DeviceBenchOptions) -> Dict[str, Any]:
    session = _AdbSession(device, options)
    # Made up here, not by mktemp: Android before 6 has no mktemp. mkdir fails rather than reuse.
    remote_dir = f"{DEVICE_TMP}/edgebuild-bench-{secrets.token_hex(6)}"
    session.shell_checked(quoted_command("mkdir", remote_dir), "cannot make " + remote_dir)
    status, output = run_then_clean_up(
        device,
        session.deadline,
        lambda: session.benchmark(remote_dir, model_path),
        lambda unfinished: session.remove_remote_dir(remote_dir, kill_benchmark=unfinished),
    )
    if status != 0:
        raise TransportError(f"{device}: benchmark_model exited with status {status}: {_first_error(output)}")
    try:
        log = parse_benchmark_model_log(output)
    except UnreadableLog as unreadable:
        raise TransportError(f"{device}: cannot read benchmark_model's output: {unreadable}")
    return _report(log, model_path, options)


class _AdbSession:
    def __init__(self, device: str, options: DeviceBenchOptions) -> None:
        self.device = device
        self.options = options
        self.serial = device.split(":", 1)[1]
        if self.serial.startswith("-"):
            raise TransportError(f"{device}: the serial must not start with '-'")
        self.deadline = Deadline(options.timeout_s)

    def benchmark(self, remote_dir: str, model_path: str) -> Tuple[int, str]:
        remote_model = f"{remote_dir}/{os.path.basename(model_path)}"
        self._adb_checked(["push", model_path, remote_model], "adb push failed")
        options = self.options
        benchmark = quoted_command(
            options.benchmark_model_path,
            "--graph=" + remote_model,
            f"--num_threads={options.threads}",
            f"--num_runs={options.runs}",
            f"--warmup_runs={options.warmup}",
            f"--min_secs={float(options.min_seconds)}",
        )
        command = quoted_command("sh", "-c", record_pid_then_exec(remote_dir, benchmark))
        return self.shell(command, timeout_s=self.deadline.remaining_s())

    def remove_remote_dir(self, remote_dir: str, *, kill_benchmark: bool) -> Optional[str]:
        """None once the directory is gone, else what went wrong."""
        try:
            status, output = self.shell(removal_command(remote_dir, kill_run=kill_benchmark),
                                        timeout_s=_CLEANUP_TIMEOUT_S)
        except (TimedOut, TransportError) as error:
            return f"could not remove {remote_dir} on the device: {error}"
        if status != 0:
            return f"could not remove {remote_dir} on the device: {last_line(output)}"
        return None

    def shell_checked(self, command: str, failure: str) -> None:
        try:
            status, output = self.shell(command, timeout_s=self.deadline.remaining_s())
        except TimedOut as timed_out:
            raise TransportError(f"{self.device}: {timed_out}")
        if status != 0:
            raise TransportError(f"{self.device}: {failure}: {last_line(output)}")

    def shell(self, command: str, *, timeout_s: float) -> Tuple[int, str]:
        """The command's own exit status and its output (stdout and stderr, in order)."""
        wrapped = f"({command}) 2>&1; echo {_STATUS_MARKER}$?"
        finished = self._adb(["shell", wrapped], timeout_s=timeout_s)
        # Older devices answer through a terminal that turns \n into \r\n.
        output = finished.stdout.replace("\r\n", "\n")
        marker_at = output.rfind(_STATUS_MARKER)
        status_text = output[marker_at + len(_STATUS_MARKER):].strip() if marker_at >= 0 else ""
        if not status_text.isdigit():
            reason = last_line(finished.stderr) or last_line(output) or "adb shell failed"
            raise TransportError(f"{self.device}: {reason}")
        return int(status_text), output[:marker_at]

    def _adb_checked(self, arguments: List[str], failure: str) -> None:
        finished = self._adb(arguments, timeout_s=self.deadline.remaining_s())
        if finished.returncode != 0:
            reason = last_line(finished.stderr) or last_line(finished.stdout)
            raise TransportError(f"{self.device}: {failure}: {reason}")

    def _adb(self, arguments: List[str], *, timeout_s: float) -> Finished:
        argv = ["adb"] + (["-s", self.serial] if self.serial else []) + arguments
        try:
            return run_with_time_limit(argv, timeout_s=timeout_s)
        except FileNotFoundError:
            raise TransportError("adb: Android platform-tools are not installed (no adb on PATH)")


def _first_error(output: str) -> str:
    """benchmark_model's first ERROR line names the cause ("unresolved custom op"); later ones
    only say that allocation failed."""
    errors = [line.strip() for line in output.splitlines() if "ERROR" in line]
    return errors[0] if errors else (last_line(output) or "no output")


def _report(log: BenchmarkModelLog, model_path: str, options: DeviceBenchOptions) -> Dict[str, Any]:
    timed = log.inference
    report = {
        "runtime": {"name": "benchmark_model", "version": "unknown"},
        "model": {"path": model_path, "sha256": sha256_of(model_path), "size_bytes": os.path.getsize(model_path)},
        "threads": options.threads,
        "runs": timed.count,
        "warmup": log.warmup.count,
        "init_ms": log.init_us / 1000.0,
        "first_inference_ms": log.first_inference_us / 1000.0,
        "warmup_avg_ms": log.warmup_avg_us / 1000.0,
        "latency_ms": {
            "p50": _ms(timed.median_us),
            "p95": _ms(timed.p95_us),
            "p99": None,
            "mean": timed.mean_us / 1000.0,
            "min": timed.min_us / 1000.0,
            "max": timed.max_us / 1000.0,
            "std": timed.std_us / 1000.0,
        },
        "memory": {
            "baseline_rss_bytes": None,
            "peak_rss_bytes": None,
            "model_rss_bytes": (
                round(log.footprint_overall_mb * _MIB) if log.footprint_overall_mb is not None else None
            ),
            "method": "benchmark_model: growth of ru_maxrss from the tool's start ('overall', MiB)",
        },
        "accuracy": None,
        "inputs": None,
        "outputs": None,
    }
    report["not_measured"] = _not_measured(report)
    return report


def _not_measured(report: Dict[str, Any]) -> List[str]:
    names = ["latency_ms." + key for key, value in report["latency_ms"].items() if value is None]
    names += ["memory." + key for key, value in report["memory"].items() if value is None]
    return names + [key for key in ("inputs", "outputs") if report[key] is None]


def _ms(microseconds: Optional[float]) -> Optional[float]:
    return None if microseconds is None else microseconds / 1000.0
