"""run_isolated: the report from a child process, or RunnerFailed with the reason in one line."""

from __future__ import annotations

import time

import pytest

from edgebuild.on_device_bench.local import RunnerFailed, run_isolated


def fake_python(tmp_path, body: str):
    """A `python` that ignores its arguments and does `body` instead."""
    script = tmp_path / "python"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_report_of_a_model_measured_in_a_child(int8_classifier):
    report = run_isolated(str(int8_classifier), runs=10, min_seconds=0, warmup=1)

    assert report["runs"] >= 10 and report["warmup"] == 1
    assert report["model"]["path"] == str(int8_classifier)
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p95"]


def test_a_crash_names_the_signal(tmp_path, int8_classifier):
    with pytest.raises(RunnerFailed, match="^interpreter crashed with SIGSEGV$"):
        run_isolated(str(int8_classifier), python=fake_python(tmp_path, "kill -SEGV $$"))


def test_a_hang_is_killed_at_the_time_limit(tmp_path, int8_classifier):
    started = time.perf_counter()
    with pytest.raises(RunnerFailed, match="^timed out after 1 s$"):
        # The hanging child starts a child of its own: the kill must reach both to return.
        run_isolated(str(int8_classifier), timeout_s=1, python=fake_python(tmp_path, "sleep 60 & wait"))
    assert time.perf_counter() - started < 10


def test_the_runners_error_is_the_message(tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00" * 64)

    with pytest.raises(RunnerFailed, match="corrupt.tflite: not a model the runtime can load"):
        run_isolated(str(corrupt))


def test_success_needs_a_report_not_only_exit_0(tmp_path, int8_classifier):
    with pytest.raises(RunnerFailed, match="status 0 without a report, last said: hello"):
        run_isolated(str(int8_classifier), python=fake_python(tmp_path, "echo hello"))
