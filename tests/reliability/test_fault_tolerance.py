"""Faults during a build — Ctrl-C or SIGTERM, a full disk, a read-only folder, a damaged cache, a concurrent build,
a diverging loss, a crashing or hanging interpreter — end in one line and the right exit code, leave
nothing half-written, and the next build picks up what was finished."""

from __future__ import annotations

import ctypes
import json
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from build_system_helpers import stages_run
from cli_runner import CliResult, assert_one_line_error, run_edgebuild
from reliability_checks import (TINY_BUILD, artifacts, assert_interrupted, assert_refused, cache_entries, leftovers,
                                start_edgebuild)
from tiny_builds import write_recipe

ARTIFACT = Path("out/tiny/android-flagship/model.tflite")
TRAINING_STAGES = {"teacher", "distill", "prune", "qat"}


def _report_sha256(root: Path) -> str:
    return json.loads((root / ARTIFACT.with_name("report.json")).read_text())["artifact"]["sha256"]


def _interrupt_at(root: Path, is_the_moment: Callable[[dict], bool], signum: int = signal.SIGINT) -> CliResult:
    """Start the tiny build with `--json`; send `signum` (Ctrl-C's SIGINT unless told) at the first event
    `is_the_moment` accepts."""
    build = start_edgebuild(*TINY_BUILD, "--json", cwd=root)
    for line in build.stdout:
        if is_the_moment(json.loads(line)):
            build.send_signal(signum)
            break
    else:
        pytest.fail("the build finished before the moment to interrupt it")
    stdout, stderr = build.communicate(timeout=300)
    return CliResult(build.returncode, stdout, stderr)


def _resumed(root: Path) -> CliResult:
    result = run_edgebuild(*TINY_BUILD, "--json", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert leftovers(root) == []
    return result


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_training_then_the_next_build_resumes(warm_workspace, tiny_build, signum, code):
    """The default-run version of the 25 s digits case below: the moment is an event, not a clock.
    SIGTERM (a cancelled CI job) is cleaned up like Ctrl-C, with its own exit code."""
    root = warm_workspace("teacher")
    before = cache_entries(root / "cache")
    result = _interrupt_at(root, lambda e: e["event"] == "epoch_finished" and e["stage"] == "teacher", signum)
    assert_interrupted(result, root, code)
    assert signal.Signals(signum).name in result.stderr
    assert cache_entries(root / "cache") == before

    resumed = _resumed(root)
    assert stages_run(resumed.stdout) & TRAINING_STAGES == {"teacher"}
    assert _report_sha256(root) == _report_sha256(tiny_build)


def test_ctrl_c_during_conversion_then_the_next_build_resumes(warm_workspace, tiny_build):
    root = warm_workspace("convert")
    result = _interrupt_at(root, lambda e: e["event"] == "stage_started" and e["stage"] == "convert")
    assert_interrupted(result, root)

    resumed = _resumed(root)
    assert stages_run(resumed.stdout) & (TRAINING_STAGES | {"export", "convert"}) == {"convert"}
    assert _report_sha256(root) == _report_sha256(tiny_build)


SECOND_SIGNAL = """
import os, signal, sys, time
from edgebuild.base.errors import Interrupted
from edgebuild.cli import _handle_interrupts
_handle_interrupts()
try:
    os.kill(os.getpid(), signal.SIGHUP)
    time.sleep(5)
except Interrupted as first:
    print(first.exit_code, flush=True)
    os.kill(os.getpid(), signal.SIGTERM)  # while cleaning up: no second unwinding, out at once
    time.sleep(5)
    print("the second signal did not end the process")
"""


def test_a_second_signal_ends_the_process_at_once(tmp_path):
    started = time.monotonic()
    child = subprocess.run([sys.executable, "-c", SECOND_SIGNAL], capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout) == (143, "129\n"), child.stderr
    assert time.monotonic() - started < 5


@pytest.mark.slow
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_a_signal_25_s_into_a_digits_build_then_the_next_build_completes(tmp_path, signum, code):
    args = ("build", "digits", "--profile", "android-flagship", "--out", "out", "--json")
    build = start_edgebuild(*args, cwd=tmp_path)
    time.sleep(25)
    build.send_signal(signum)
    stdout, stderr = build.communicate(timeout=300)
    assert_interrupted(CliResult(build.returncode, stdout, stderr), tmp_path, code)

    finished = run_edgebuild(*args, cwd=tmp_path, timeout=3600)
    assert finished.returncode in (0, 1), finished.stderr[-3000:]  # 1: a check failed, the build itself completed
    assert (tmp_path / "out/digits/android-flagship/model.tflite").is_file()
    assert leftovers(tmp_path) == []


def _file_size_limit(limit_bytes: int) -> Callable[[], None]:
    """preexec_fn: writes past `limit_bytes` fail with EFBIG, as on a full disk, instead of SIGXFSZ killing the build."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return limit


@pytest.mark.parametrize("missing, culprit", [((), "out/tiny/android-flagship"), (("convert",), "cache/")],
                         ids=["writing_the_artifact", "writing_the_cache"])
def test_out_of_space_is_one_line_naming_the_folder_and_nothing_is_half_written(warm_workspace, missing, culprit):
    root = warm_workspace(*missing)
    before = cache_entries(root / "cache")
    result = run_edgebuild(*TINY_BUILD, cwd=root, preexec_fn=_file_size_limit(4096))
    assert_one_line_error(result, 2, culprit, "File too large")
    assert artifacts(root / "out") == [] and not (root / "out").exists()
    assert cache_entries(root / "cache") == before
    assert leftovers(root) == []


@pytest.mark.parametrize("option", ["--out", "--cache-dir"])
def test_output_or_cache_that_is_a_file_is_refused_before_training(tmp_path, option):
    write_recipe(tmp_path)
    (tmp_path / "taken").write_text("a file where a folder should go")
    args = ["build", "recipe.yaml", "--profile", "android-flagship", "--out", "out"]
    result = run_edgebuild(*args, option, "taken/sub", cwd=tmp_path)
    assert_one_line_error(result, 2, "taken", "is not a folder")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
    assert leftovers(tmp_path) == []


_CLONE_NEWNS, _MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 0x20000, 1, 32, 4096, 16384, 1 << 18


def _read_only(folder: Path) -> Callable[[], None]:
    """preexec_fn: the child sees `folder` on a read-only bind mount of its own (root ignores mode bits)."""

    def remount() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        path = str(folder).encode()
        for result in (libc.unshare(_CLONE_NEWNS), libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None),
                       libc.mount(path, path, None, _MS_BIND, None),
                       libc.mount(None, path, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY, None)):
            if result != 0:
                raise OSError(ctypes.get_errno(), "cannot make a read-only bind mount")

    return remount


@pytest.mark.parametrize("folder", ["out", "cache"])
def test_read_only_output_or_cache_is_refused_before_training(tmp_path, folder):
    (tmp_path / folder).mkdir()
    try:
        subprocess.run([sys.executable, "-c", ""], preexec_fn=_read_only(tmp_path / folder), check=True)
    except subprocess.SubprocessError as error:
        pytest.skip(f"no mount namespace here to make a read-only folder in: {error}")
    write_recipe(tmp_path)
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path,
                           preexec_fn=_read_only(tmp_path / folder))
    assert_one_line_error(result, 2, folder, "is not writable")
    assert list((tmp_path / folder).iterdir()) == [] and leftovers(tmp_path) == []


def test_damaged_cache_entry_is_rebuilt_to_the_same_artifact(warm_workspace, tiny_build):
    root = warm_workspace()
    cached = next(entry / "model.tflite" for entry in cache_entries(root / "cache") if (entry / "model.tflite").exists())
    damaged = bytearray(cached.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    cached.write_bytes(bytes(damaged))

    resumed = _resumed(root)
    assert stages_run(resumed.stdout) & (TRAINING_STAGES | {"export", "convert"}) == {"convert"}
    assert _report_sha256(root) == _report_sha256(tiny_build)


def test_two_builds_at_once_on_one_cache_convert_once_and_agree(warm_workspace, tiny_build):
    root = warm_workspace("convert")
    builds = [start_edgebuild(*TINY_BUILD[:-1], out, "--json", cwd=root) for out in ("out_a", "out_b")]
    finished = [build.communicate(timeout=600) for build in builds]
    assert [build.returncode for build in builds] == [0, 0], [stderr[-2000:] for _, stderr in finished]
    converted = [stages_run(stdout) & {"export", "convert"} for stdout, _ in finished]
    assert sorted(converted, key=len) == [set(), {"convert"}], "the lock let both builds convert"
    shas = {json.loads((root / out / "tiny/android-flagship/report.json").read_text())["artifact"]["sha256"]
            for out in ("out_a", "out_b")}
    assert shas == {_report_sha256(tiny_build)}
    assert leftovers(root) == []


def test_nan_loss_fails_the_stage_naming_the_setting(tmp_path):
    write_recipe(tmp_path, teacher={"architecture": {"filters": [8]},
                                    "training": {"epochs": 2, "batch_size": 64, "learning_rate": 1e30}})
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert_refused(result, 1, "stage teacher", "NaN", "teacher.training.learning_rate", root=tmp_path)


def _cpu_time_limit(seconds: int) -> Callable[[], None]:
    """preexec_fn: a process that uses `seconds` of CPU gets SIGXCPU (the interpreter child inherits it)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 30))

    return limit


def test_interpreter_child_killed_mid_run_is_a_failed_check_not_a_crash(tiny_build, tmp_path):
    """The hang (time limit) is tests/verify/test_verify_corrupt.py's; here the child dies of a signal."""
    model = tiny_build / ARTIFACT
    result = run_edgebuild("verify", str(model), "--profile", "android-flagship", "--json", "--min-seconds", "120",
                           "--runs", "100000000", cwd=tmp_path, preexec_fn=_cpu_time_limit(6))
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout
    failed = {check["name"]: check["reason"] for check in json.loads(result.stdout)["checks"] if not check["passed"]}
    assert failed == {"runs_in_runtime": "interpreter crashed with SIGXCPU"}
    assert leftovers(tmp_path) == []


def test_bench_of_a_hanging_run_stops_at_the_time_limit_naming_the_model(tiny_build, tmp_path):
    model = tiny_build / ARTIFACT
    started = time.monotonic()
    result = run_edgebuild("bench", str(model), "--timeout", "2", "--min-seconds", "120", cwd=tmp_path)
    assert_one_line_error(result, 2, str(model), "timed out after 2 s")
    assert time.monotonic() - started < 60
    assert leftovers(tmp_path) == []
