"""The CLI surface: help everywhere, catalogs that print copyable YAML, no TensorFlow for --help."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.cli import COMMANDS
from edgebuild.config.profile import profile_names


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_has_help(command, tmp_path):
    result = run_edgebuild(command, "--help", cwd=tmp_path)
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_help_does_not_import_tensorflow():
    code = ("import sys; from click.testing import CliRunner; from edgebuild.cli import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
            "print('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_profiles_list_prints_one_profile_per_line_name_first(tmp_path):
    result = run_edgebuild("profiles", "list", cwd=tmp_path)
    assert [line.split("\t")[0] for line in result.stdout.splitlines()] == profile_names()


def test_shown_profile_is_a_valid_profile_file(tmp_path):
    shown = run_edgebuild("profiles", "show", "raspberry-pi-4", cwd=tmp_path).stdout
    assert yaml.safe_load(shown)["name"] == "raspberry-pi-4"
    (tmp_path / "mine.yaml").write_text(shown)
    from edgebuild.config.profile import load_profile

    profile, _ = load_profile(str(tmp_path / "mine.yaml"))
    assert profile.name == "raspberry-pi-4"


def test_shown_recipe_loads_as_a_file(tmp_path):
    shown = run_edgebuild("recipes", "show", "digits", cwd=tmp_path).stdout
    (tmp_path / "copy.yaml").write_text(shown)
    from edgebuild.config.recipe import load_recipe

    recipe, _ = load_recipe(str(tmp_path / "copy.yaml"))
    assert recipe.data.source == "sklearn:digits"


@pytest.mark.parametrize("name", ["nope", "../recipes/digits", "digits/../../etc"])
def test_unknown_or_escaping_names_are_refused(name, tmp_path):
    assert_one_line_error(run_edgebuild("recipes", "show", name, cwd=tmp_path), 2, repr(name))
