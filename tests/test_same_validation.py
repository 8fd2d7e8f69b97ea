"""`plan` and `fit` refuse exactly what `build` refuses, with the same line: a plan that looks fine must not
lead to a build that will not start."""

from __future__ import annotations

import os

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from tiny_recipe import TINY_RECIPE

COMMANDS = (("build", "--out", "out"), ("plan",), ("fit",))
REFUSALS = {
    "strategy_without_cluster": (TINY_RECIPE + "strategy: multi-worker\n", "TF_CONFIG is not set"),
    "unknown_section_field": (TINY_RECIPE.replace("  alpha: 0.1\n", "  alpha: 0.1\n  alpah: 0.2\n"), "alpah"),
    "missing_data": (TINY_RECIPE.replace("sklearn:digits", "no_such_folder"), "data source not found"),
}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_plan_and_fit_refuse_what_build_refuses(tmp_path, refusal):
    recipe, fragment = REFUSALS[refusal]
    (tmp_path / "tiny.yaml").write_text(recipe)
    env = {name: value for name, value in os.environ.items() if name != "TF_CONFIG"}
    errors = set()
    for command, *extra in COMMANDS:
        result = run_edgebuild(command, "tiny.yaml", "--profile", "android-flagship", *extra, cwd=tmp_path, env=env)
        assert_one_line_error(result, 2, fragment)
        errors.add(next(line for line in result.stderr.splitlines() if line.startswith("error:")))
    assert len(errors) == 1, errors
