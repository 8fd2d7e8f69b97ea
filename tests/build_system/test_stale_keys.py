"""Keys that cannot go stale: a stage's code version is derived from the import graph, so an edit to
any code a stage runs reruns that stage and what depends on it, and nothing else.

Each test edits a copy of the installed package and runs the CLI from it, on a copy of the warm
tiny-recipe cache; the copy's unedited modules hash as the installed ones, so that cache hits.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from build_system_helpers import assert_plan_matches, stages_run
from cli_runner import run_edgebuild
from installed_copy import copy_installed_package, edit_module, environment_for

BUILD = ("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json")
EVERYTHING = {"data", "teacher", "soft_targets", "distill", "prune", "qat", "export", "convert", "measure", "verify"}


@pytest.fixture
def edited(workspace, tmp_path):
    """A function editing one module of a fresh copy of the package; returns the copy's environment."""
    copy = copy_installed_package(tmp_path / "package")
    env = environment_for(copy)
    probe = run_edgebuild("plan", "tiny.yaml", "--profile", "android-flagship", "--json", cwd=workspace, env=env)
    assert probe.returncode == 0, probe.stderr
    assert {row["stage"] for row in json.loads(probe.stdout) if row["will_run"]} == {"verify"}

    def edit(module: str, line: str) -> dict[str, str]:
        edit_module(copy, module, line)
        return env

    return edit


def test_the_copy_is_what_runs(workspace, edited):
    env = edited("edgebuild.toolchain.data", "")
    where = subprocess.run([sys.executable, "-c", "import edgebuild.toolchain.data as m; print(m.__file__)"],
                           env=env, capture_output=True, text=True, cwd=workspace, check=True).stdout
    assert where.startswith(env["PYTHONPATH"])


def test_a_change_to_data_preparation_reruns_data_and_everything_after_it(workspace, edited):
    env = edited("edgebuild.toolchain.data", "_PREPARED_BY = 'an edit'")
    rows = plan_rows_with(workspace, env)
    # plan prepares the data itself (later keys need its result), so the build finds it cached.
    assert {row["stage"] for row in rows if row["will_run"]} == EVERYTHING - {"data"}
    assert "(changed: code)" in next(row for row in rows if row["stage"] == "data")["reason"]
    assert next(row for row in rows if row["stage"] == "teacher")["reason"] == "an upstream stage changed: data"
    result = run_edgebuild(*BUILD, cwd=workspace, env=env)
    assert result.returncode == 0, result.stderr
    assert_plan_matches(rows, stages_run(result.stdout))


def test_a_change_to_the_runners_timing_code_reruns_the_measurement_only(workspace, edited):
    env = edited("edgebuild.on_device_bench.timing", "_TIMED_BY = 'an edit'")
    result = run_edgebuild(*BUILD, cwd=workspace, env=env)
    assert result.returncode == 0, result.stderr
    assert stages_run(result.stdout) == {"measure", "verify"}
    report = json.loads((workspace / "out/tiny/android-flagship/report.json").read_text())
    assert report["measurement"]["reused"] is False


def test_a_comment_only_change_reruns_nothing(workspace, edited):
    env = edited("edgebuild.toolchain.data", "# a comment changes no syntax tree, so no key")
    assert {row["stage"] for row in plan_rows_with(workspace, env) if row["will_run"]} == {"verify"}


def plan_rows_with(workspace, env) -> list[dict]:
    result = run_edgebuild("plan", "tiny.yaml", "--profile", "android-flagship", "--json", cwd=workspace, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
