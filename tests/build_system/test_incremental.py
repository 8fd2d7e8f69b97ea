"""Each kind of input change reruns exactly the stages that depend on it, and `plan` says so first."""

from __future__ import annotations

import pytest

from build_system_helpers import planned_runs, stages_run
from cli_runner import run_edgebuild

TRAINING = ["teacher", "distill", "prune", "qat"]


@pytest.mark.parametrize("old, new, expected", [
    ("representative_samples: 50", "representative_samples: 40", {"convert", "verify"}),
    ("max_drop_from_float: 0.1", "max_drop_from_float: 0.2", {"verify"}),
    ("target_sparsity: 0.5", "target_sparsity: 0.4", {"prune", "qat", "export", "convert", "verify"}),
    ("alpha: 0.1", "alpha: 0.2", {"distill", "prune", "qat", "export", "convert", "verify"}),
    ("filters: [16]", "filters: [12]", set(TRAINING) | {"export", "convert", "verify"}),
    ("seed: 3", "seed: 4", set(TRAINING) | {"export", "convert", "verify"}),
])
def test_plan_names_exactly_the_stages_a_change_reruns(workspace, old, new, expected):
    recipe = workspace / "tiny.yaml"
    assert planned_runs(workspace) == {"verify"}
    recipe.write_text(recipe.read_text().replace(old, new))
    # export has no row of its own in the plan: it reruns with the stage it exports.
    assert planned_runs(workspace) == expected - {"export"}


def test_conversion_only_change_reruns_conversion_only(workspace):
    recipe = workspace / "tiny.yaml"
    recipe.write_text(recipe.read_text().replace("representative_samples: 50", "representative_samples: 40"))
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert stages_run(result.stdout) == {"convert", "verify"}


def test_pruning_change_keeps_teacher_and_student(workspace):
    recipe = workspace / "tiny.yaml"
    recipe.write_text(recipe.read_text().replace("target_sparsity: 0.5", "target_sparsity: 0.4"))
    plan = planned_runs(workspace)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert stages_run(result.stdout) == plan | {"export"}
    assert planned_runs(workspace) == {"verify"}


def test_unchanged_rebuild_trains_nothing(workspace):
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert stages_run(result.stdout) == {"verify"}
