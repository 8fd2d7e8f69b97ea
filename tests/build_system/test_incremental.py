"""Each kind of input change reruns exactly the stages that depend on it, and `plan` says so first."""

from __future__ import annotations

import pytest

from build_system_helpers import assert_plan_matches, plan_rows, planned_runs, stages_run
from cli_runner import run_edgebuild

ARTIFACT = {"export", "convert", "measure", "verify"}
STUDENT = {"distill", "prune", "qat"} | ARTIFACT


@pytest.mark.parametrize("old, new, expected", [
    ("representative_samples: 50", "representative_samples: 40", {"convert", "measure", "verify"}),
    ("max_drop_from_float: 0.1", "max_drop_from_float: 0.2", {"verify"}),
    ("target_sparsity: 0.5", "target_sparsity: 0.4", STUDENT - {"distill"}),
    ("alpha: 0.1", "alpha: 0.2", STUDENT),
    ("filters: [16]", "filters: [12]", {"teacher", "soft_targets"} | STUDENT),
    ("seed: 3", "seed: 4", {"teacher", "soft_targets"} | STUDENT),  # plan computes the data itself
])
def test_plan_names_exactly_the_stages_a_change_reruns(workspace, old, new, expected):
    recipe = workspace / "tiny.yaml"
    assert planned_runs(workspace) == {"verify"}
    recipe.write_text(recipe.read_text().replace(old, new))
    assert planned_runs(workspace) == expected


def test_conversion_only_change_reruns_conversion_only(workspace):
    recipe = workspace / "tiny.yaml"
    recipe.write_text(recipe.read_text().replace("representative_samples: 50", "representative_samples: 40"))
    rows = plan_rows(workspace)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    # A QAT model's conversion ignores the representative set: same bytes, so the measurement is reused.
    assert stages_run(result.stdout) == {"convert", "verify"}
    assert_plan_matches(rows, stages_run(result.stdout))


def test_pruning_change_keeps_teacher_and_student(workspace):
    recipe = workspace / "tiny.yaml"
    recipe.write_text(recipe.read_text().replace("target_sparsity: 0.5", "target_sparsity: 0.4"))
    rows = plan_rows(workspace)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert_plan_matches(rows, stages_run(result.stdout))
    assert {"teacher", "distill"}.isdisjoint(stages_run(result.stdout))
    assert planned_runs(workspace) == {"verify"}


def test_unchanged_rebuild_trains_nothing(workspace):
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert stages_run(result.stdout) == {"verify"}
