"""Recipes and profiles that cannot be used are refused by `edgebuild build` in one line that names
the file, the line, the field and what was expected — before any data is read or anything trained."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from cli_runner import run_edgebuild
from reliability_checks import assert_refused
from tiny_recipe import TINY_RECIPE

PROFILE = "android-flagship"


def _bundled(package: str, name: str) -> str:
    return (resources.files(package) / f"{name}.yaml").read_text()


DIGITS = _bundled("edgebuild.recipes", "digits")
FLAGSHIP = _bundled("edgebuild.device_profiles", PROFILE)


def _edited(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} is not once in the text"
    return text.replace(old, new)


def _line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.splitlines(), 1) if fragment in line)


def _build(root: Path, recipe: str, profile: str = PROFILE):
    (root / "recipe.yaml").write_text(recipe)
    return run_edgebuild("build", "recipe.yaml", "--profile", profile, "--out", "out", cwd=root)


def _build_for_profile(root: Path, profile: str):
    (root / "profile.yaml").write_text(profile)
    return _build(root, TINY_RECIPE, "profile.yaml")


@pytest.mark.parametrize("text, line_fragment", [
    (_edited(TINY_RECIPE, "input_size: [8, 8]", "input_size: [8, 8"), "teacher:"),
    (_edited(TINY_RECIPE, "seed: 3", "seed: 3\n\tname: tabbed"), "tabbed"),
], ids=["unclosed_bracket", "tab"])
def test_invalid_yaml_names_file_and_line(tmp_path, text, line_fragment):
    result = _build(tmp_path, text)
    assert_refused(result, 2, f"recipe.yaml:{_line_of(text, line_fragment)}: invalid YAML", root=tmp_path)


UNKNOWN_KEYS = {
    "top_level_of_digits": (DIGITS + "extra_stage: 1\n", "extra_stage: unknown key", "extra_stage"),
    "stage_name": (_edited(TINY_RECIPE, "prune:", "prnue:"), "prnue: unknown key (did you mean 'prune'?)", "prnue"),
    "in_a_section": (_edited(TINY_RECIPE, "  temperature: 4.0", "  temprature: 4.0"),
                     "distill.temprature: unknown key (did you mean 'temperature'?)", "temprature"),
    "in_a_nested_mapping": (_edited(TINY_RECIPE, "{epochs: 3,", "{epoch: 3,"),
                            "prune.training.epoch: unknown key (did you mean 'epochs'?)", "epoch: 3"),
    "in_a_list_item": (_edited(TINY_RECIPE, "{channels: 16, stride: 2}", "{chanels: 16, stride: 2}"),
                       "student.blocks.0.chanels: unknown key (did you mean 'channels'?)", "chanels"),
}


@pytest.mark.parametrize("case", sorted(UNKNOWN_KEYS))
def test_unknown_recipe_key_is_named_with_a_suggestion(tmp_path, case):
    text, fragment, line_fragment = UNKNOWN_KEYS[case]
    result = _build(tmp_path, text)
    assert_refused(result, 2, f"recipe.yaml:{_line_of(text, line_fragment)}: {fragment}", root=tmp_path)


def test_unknown_profile_key_is_named_with_a_suggestion(tmp_path):
    result = _build_for_profile(tmp_path, _edited(FLAGSHIP, "  gzip_bytes:", "  gzip_byte:"))
    assert_refused(result, 2, "profile.yaml:", "budgets.gzip_byte: unknown key (did you mean 'gzip_bytes'?)",
                   root=tmp_path)


@pytest.mark.parametrize("old, new, fragments", [
    ("{epochs: 1,", "{epochs: many,", ("qat.training.epochs", "expected a valid integer", "'many'")),
    ("input_size: [8, 8]", "input_size: 8x8", ("data.input_size", "expected a valid", "'8x8'")),
    ("architecture: mobilenet_v1", "architecture: resnet9000", ("student.architecture", "mobilenet_v1", "'resnet9000'")),
    ("convert:\n", "convert:\n  precisions: [int4]\n", ("convert.precisions.0", "expected one of: int8, ", "'int4'")),
    ("seed: 3", "seed: 3\nstrategy: tpu", ("strategy", "'mirrored'", "'tpu'")),
], ids=["type_epochs", "type_input_size", "unknown_student", "unknown_precision", "unknown_strategy"])
def test_wrong_type_or_unknown_name_is_named(tmp_path, old, new, fragments):
    result = _build(tmp_path, _edited(TINY_RECIPE, old, new))
    assert_refused(result, 2, *fragments, root=tmp_path)
    assert result.stderr.count("got ") == 1, "the value is named more than once"


@pytest.mark.parametrize("old, new, fragments", [
    ("target_sparsity: 0.5", "target_sparsity: 1.0", ("prune.target_sparsity", "less than 1", "got 1.0")),
    ("target_sparsity: 0.5", "target_sparsity: -0.1", ("prune.target_sparsity", "greater than or equal to 0")),
    ("temperature: 4.0", "temperature: 0", ("distill.temperature", "greater than 0", "got 0")),
], ids=["sparsity_1", "sparsity_negative", "temperature_0"])
def test_out_of_range_recipe_value_is_named(tmp_path, old, new, fragments):
    text = _edited(TINY_RECIPE, old, new)
    line = _line_of(text, new)
    assert_refused(_build(tmp_path, text), 2, f"recipe.yaml:{line}: {fragments[0]}", *fragments[1:], root=tmp_path)


def test_negative_profile_budget_is_named(tmp_path):
    text = _edited(FLAGSHIP, "peak_memory_bytes: 67108864", "peak_memory_bytes: -1")
    result = _build_for_profile(tmp_path, text)
    line = _line_of(text, "peak_memory_bytes: -1")
    assert_refused(result, 2, f"profile.yaml:{line}: budgets.peak_memory_bytes", "greater than 0", root=tmp_path)


@pytest.mark.parametrize("old, new, field", [
    ("  source: sklearn:digits\n", "", "data.source"),
    ("  temperature: 4.0\n  alpha: 0.1\n  training: {epochs: 8, batch_size: 64, learning_rate: 0.01}\n", "",
     "distill.training"),
], ids=["data_source", "distill_training"])
def test_missing_required_field_is_named(tmp_path, old, new, field):
    result = _build(tmp_path, _edited(TINY_RECIPE, old, new))
    assert_refused(result, 2, "recipe.yaml", f"{field}: required field is missing", root=tmp_path)


def test_missing_profile_section_is_named(tmp_path):
    text = _edited(FLAGSHIP, "latency:\n  p50_ms: 4\n  p95_ms: 8\n  threads: 4\n", "")
    assert_refused(_build_for_profile(tmp_path, text), 2, "profile.yaml", "latency: required field is missing",
                   root=tmp_path)


@pytest.mark.parametrize("text", ["", "# only a comment\n"], ids=["empty", "comment_only"])
def test_empty_recipe_is_refused(tmp_path, text):
    assert_refused(_build(tmp_path, text), 2, "recipe.yaml", "empty file", root=tmp_path)


def test_top_level_list_is_refused(tmp_path):
    assert_refused(_build(tmp_path, "- name: tiny\n"), 2, "recipe.yaml", "expected a YAML mapping", root=tmp_path)


def test_duplicate_nested_key_is_refused_at_its_line(tmp_path):
    text = _edited(TINY_RECIPE, "  alpha: 0.1\n", "  alpha: 0.1\n  temperature: 2.0\n")
    line = _line_of(text, "temperature: 2.0")
    assert_refused(_build(tmp_path, text), 2, f"recipe.yaml:{line}: invalid YAML: duplicate key 'temperature'",
                   root=tmp_path)


def test_duplicate_profile_budget_is_refused(tmp_path):
    text = _edited(FLAGSHIP, "  gzip_bytes:", "  size_bytes: 2000\n  gzip_bytes:")
    line = _line_of(text, "size_bytes: 2000")
    result = _build_for_profile(tmp_path, text)
    assert_refused(result, 2, f"profile.yaml:{line}: invalid YAML: duplicate key 'size_bytes'", root=tmp_path)


PYTHON_TAGS = {
    "object_apply": "!!python/object/apply:os.system ['touch {marker}']",
    "object_new": "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "name": "!!python/name:os.system",
}


@pytest.mark.parametrize("tag", sorted(PYTHON_TAGS))
def test_python_tag_in_digits_is_refused_and_never_runs(tmp_path, tag):
    marker = tmp_path / "ran"
    text = DIGITS + f"evil: {PYTHON_TAGS[tag].format(marker=marker)}\n"
    result = _build(tmp_path, text)
    assert_refused(result, 2, f"recipe.yaml:{_line_of(text, 'evil:')}: invalid YAML", "python", root=tmp_path)
    assert not marker.exists()


def test_python_tag_in_a_profile_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    text = _edited(FLAGSHIP, "threads: 4", f"threads: !!python/object/apply:os.system ['touch {marker}']")
    assert_refused(_build_for_profile(tmp_path, text), 2, "profile.yaml", "invalid YAML", root=tmp_path)
    assert not marker.exists()


@pytest.mark.parametrize("option, name", [
    ("--profile", "../device_profiles/iphone"),
    ("--profile", "iphone/../../../etc/passwd"),
    ("recipe", "../recipes/digits"),
], ids=["profile_parent", "profile_deep", "recipe_parent"])
def test_bundled_name_that_escapes_its_folder_is_refused(tmp_path, option, name):
    recipe, profile = (name, PROFILE) if option == "recipe" else ("digits", name)
    result = run_edgebuild("build", recipe, "--profile", profile, "--out", "out", cwd=tmp_path)
    assert_refused(result, 2, repr(name), root=tmp_path)


def test_recipe_name_that_would_escape_the_output_folder_is_refused(tmp_path):
    text = _edited(TINY_RECIPE, "name: tiny", "name: ../../escaped")
    assert_refused(_build(tmp_path, text), 2, "recipe.yaml:1: name", "'../../escaped'", root=tmp_path)


def test_profile_name_that_would_escape_the_output_folder_is_refused(tmp_path):
    text = _edited(FLAGSHIP, "name: android-flagship", "name: ../../escaped")
    result = _build_for_profile(tmp_path, text)
    assert_refused(result, 2, f"profile.yaml:{_line_of(text, 'escaped')}: name", "'../../escaped'", root=tmp_path)
