"""Recipes and profiles are validated strictly, and errors point at file, line and field."""

from __future__ import annotations

import pytest
import yaml

from edgebuild.base.errors import BadInput
from edgebuild.config.profile import load_profile
from edgebuild.config.recipe import load_recipe


def _write(tmp_path, text: str, name: str = "r.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _digits_text() -> str:
    _, path = load_recipe("digits")
    return path.read_text()


def test_bundled_recipe_validates():
    recipe, _ = load_recipe("digits")
    assert recipe.data.source == "sklearn:digits" and recipe.prune.target_sparsity == 0.5


def test_unknown_key_suggests_the_close_one(tmp_path):
    text = _digits_text().replace("  temperature: 4.0", "  temprature: 4.0")
    with pytest.raises(BadInput, match=r"r\.yaml:\d+: distill\.temprature: unknown key \(did you mean 'temperature'"):
        load_recipe(_write(tmp_path, text))


def test_unknown_top_level_key_is_named(tmp_path):
    with pytest.raises(BadInput, match=r"extra_stage: unknown key"):
        load_recipe(_write(tmp_path, _digits_text() + "extra_stage: 1\n"))


def test_duplicate_keys_are_refused_with_their_line(tmp_path):
    text = _digits_text().replace("seed: 0\n", "seed: 0\nseed: 1\n")
    line = text.splitlines().index("seed: 1") + 1
    with pytest.raises(BadInput, match=rf"r\.yaml:{line}: invalid YAML: duplicate key 'seed'"):
        load_recipe(_write(tmp_path, text))


def test_python_tags_are_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"
    text = _digits_text() + f"evil: !!python/object/apply:os.system ['touch {marker}']\n"
    with pytest.raises(BadInput, match="invalid YAML"):
        load_recipe(_write(tmp_path, text))
    assert not marker.exists()


@pytest.mark.parametrize("field, bad_value", [
    ("prune.target_sparsity", 1.5),
    ("distill.temperature", 0),
    ("distill.alpha", -0.1),
    ("qat.training.epochs", "many"),
    ("data.input_size", [16]),
])
def test_bad_values_name_the_field(tmp_path, field, bad_value):
    document = yaml.safe_load(_digits_text())
    *parents, leaf = field.split(".")
    section = document
    for name in parents:
        section = section[name]
    section[leaf] = bad_value
    with pytest.raises(BadInput, match=rf"r\.yaml:\d+: {field.replace('.', chr(92) + '.')}"):
        load_recipe(_write(tmp_path, yaml.safe_dump(document, sort_keys=False)))


def test_unknown_student_architecture_lists_the_registered_ones(tmp_path):
    document = yaml.safe_load(_digits_text())
    document["student"]["architecture"] = "resnet9000"
    with pytest.raises(BadInput, match=r"student\..*architecture: .*mobilenet_v1"):
        load_recipe(_write(tmp_path, yaml.safe_dump(document, sort_keys=False)))


def test_missing_required_field(tmp_path):
    lines = [line for line in _digits_text().splitlines() if not line.startswith("  source:")]
    with pytest.raises(BadInput, match=r"data\.source: required field is missing"):
        load_recipe(_write(tmp_path, "\n".join(lines)))


def test_empty_file(tmp_path):
    with pytest.raises(BadInput, match="empty file"):
        load_recipe(_write(tmp_path, ""))


def test_negative_profile_budget(tmp_path):
    _, path = load_profile("android-flagship")
    text = path.read_text().replace("size_bytes: 16777216", "size_bytes: -5")
    with pytest.raises(BadInput, match=r"p\.yaml:\d+: budgets\.size_bytes: expected .*greater than 0"):
        load_profile(_write(tmp_path, text, "p.yaml"))
