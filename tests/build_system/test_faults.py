"""A build system never leaves half-written results: interrupted, concurrent, or fed a damaged cache."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from build_system_helpers import planned_runs, stages_run
from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE

BUILD = ["build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json"]


def _partial_files(*folders: Path) -> list[Path]:
    return [p for folder in folders if folder.exists() for p in folder.rglob("*")
            if ".tmp" in p.name or p.name.endswith(".partial")]


def _start_build(root: Path, cache: Path) -> subprocess.Popen:
    env = {**os.environ, "EDGEBUILD_CACHE": str(cache)}
    return subprocess.Popen([sys.executable, "-m", "edgebuild", *BUILD], cwd=root, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_ctrl_c_during_training_leaves_nothing_partial_and_the_next_build_resumes(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    build = _start_build(tmp_path, tmp_path / "cache")
    for line in build.stdout:
        event = json.loads(line)
        if event["event"] == "epoch_finished" and event["stage"] == "distill":
            build.send_signal(signal.SIGINT)
            break
    _, stderr = build.communicate(timeout=300)
    assert build.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert not (tmp_path / "out" / "tiny" / "android-flagship" / "model.tflite").exists()
    assert _partial_files(tmp_path / "cache", tmp_path / "out") == []
    resumed = run_edgebuild(*BUILD, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "teacher" not in stages_run(resumed.stdout) and "distill" in stages_run(resumed.stdout)


def test_two_builds_sharing_one_cache_both_succeed_and_agree(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "tiny.yaml").write_text(TINY_RECIPE)
    builds = [_start_build(tmp_path / name, tmp_path / "cache") for name in ("a", "b")]
    outputs = [build.communicate(timeout=600) for build in builds]
    assert [build.returncode for build in builds] == [0, 0], [stderr[-2000:] for _, stderr in outputs]
    artifacts = [(tmp_path / name / "out/tiny/android-flagship/model.tflite").read_bytes() for name in ("a", "b")]
    assert artifacts[0] == artifacts[1]
    trained = [stages_run(stdout) & {"teacher", "distill", "prune", "qat"} for stdout, _ in outputs]
    assert trained[0].isdisjoint(trained[1]), "a stage was trained twice: the lock did not hold"


def test_corrupted_cache_entry_is_detected_and_rebuilt(workspace):
    cache = workspace / "cache"
    weights = sorted(cache.glob("??/*/weights.h5"), key=lambda p: p.stat().st_mtime)[-1]
    weights.write_bytes(weights.read_bytes()[:100])
    assert "qat" in planned_runs(workspace)
    result = run_edgebuild(*BUILD, cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "qat" in stages_run(result.stdout)
    assert planned_runs(workspace) == {"verify"}
