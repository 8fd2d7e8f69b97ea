"""The training stages run under tf.distribute without any other change to the recipe."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from build_system_helpers import stages_run
from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE

TRAINING = {"teacher", "distill", "prune", "qat"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_mirrored_strategy_over_two_logical_cpus_trains_every_stage(tmp_path, monkeypatch):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    monkeypatch.setenv("EDGEBUILD_LOGICAL_CPUS", "2")
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out",
                           "--strategy", "mirrored", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert TRAINING <= stages_run(result.stdout)
    report = json.loads((tmp_path / "out/tiny/android-flagship/report.json").read_text())
    assert report["passed"] and report["accuracy"]["artifact"] > 0.5


def test_strategy_is_part_of_the_cache_key(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    plans = [json.loads(run_edgebuild("plan", "tiny.yaml", "--profile", "android-flagship", "--json",
                                      *flag, cwd=tmp_path).stdout) for flag in ([], ["--strategy", "mirrored"])]
    keys = [{row["stage"]: row["key"] for row in plan} for plan in plans]
    assert all(keys[0][stage] != keys[1][stage] for stage in TRAINING)


def test_multi_worker_without_tf_config_is_bad_input(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--strategy", "multi-worker",
                           cwd=tmp_path)
    assert result.returncode == 2 and "TF_CONFIG" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.slow
def test_two_workers_on_localhost_train_together(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    workers = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
    processes = []
    for index in range(2):
        config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**os.environ, "TF_CONFIG": json.dumps(config), "EDGEBUILD_CACHE": str(tmp_path / "cache")}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "edgebuild", "build", "tiny.yaml", "--profile", "android-flagship", "--out", "out",
             "--strategy", "multi-worker", "--json"], cwd=tmp_path, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outputs = [process.communicate(timeout=900) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    assert (tmp_path / "out/tiny/android-flagship/model.tflite").exists()
    assert not (tmp_path / "out.worker-1/tiny/android-flagship/model.tflite").samefile(
        tmp_path / "out/tiny/android-flagship/model.tflite")
