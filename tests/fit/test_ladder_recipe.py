"""The student ladder in a recipe: validated like one student, resolved to one student before training."""

from __future__ import annotations

import pytest

from edgebuild.app.plan import plan
from edgebuild.base.errors import BadInput
from edgebuild.config.recipe import StudentLadder, load_recipe
from fit_recipes import ladder_text, with_student
from tiny_recipe import TINY_RECIPE


def _load(tmp_path, text: str):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return load_recipe(str(path))[0]


def test_candidates_inherit_the_shared_fields_and_may_override_them(tmp_path):
    text = ladder_text(architecture="mobilenet_v2").replace("{name: w1, ", "{name: w1, architecture: mobilenet_v1, ")
    ladder = _load(tmp_path, text).student
    assert isinstance(ladder, StudentLadder) and ladder.choose == "auto"
    assert [c.architecture for c in ladder.candidates] == ["mobilenet_v2", "mobilenet_v1", "mobilenet_v2"]
    assert {c.bn_momentum for c in ladder.candidates} == {0.9}


def test_a_chosen_candidate_trains_under_the_same_cache_keys_as_that_one_student(tmp_path):
    ladder_path = tmp_path / "ladder.yaml"
    ladder_path.write_text(ladder_text(widths=(0.5, 1.0)).replace("choose: auto", "choose: w1"))
    single_path = tmp_path / "single.yaml"
    single_path.write_text(with_student("student:\n  architecture: mobilenet_v1\n  width: 1.0\n  stem_channels: 8\n"
                                        "  blocks: [{channels: 16, stride: 2}, {channels: 32, stride: 1}]\n"))
    ladder, single = load_recipe(str(ladder_path))[0].student, load_recipe(str(single_path))[0].student
    assert isinstance(ladder, StudentLadder) and ladder.students()[1] == single

    def training_keys(path):
        rows = plan(str(path), ["android-flagship"], cache_root=tmp_path / "cache")
        return [row.key for row in rows if row.stage in ("distill", "prune", "qat")]

    keys = training_keys(ladder_path)
    assert len(keys) == 3 and keys == training_keys(single_path)


@pytest.mark.parametrize("old, new, message", [
    ("architecture: mobilenet_v1\n  bn_momentum", "architecture: resnet\n  bn_momentum",
     r"r\.yaml:\d+: student\.architecture: expected one of: "),
    ("{name: w1, width: 1.0", "{name: w1, width: wide", r"r\.yaml:\d+: student\.candidates\.1\.width: "),
    ("{name: w1, width: 1.0", "{name: w1, widht: 1.0", r"student\.candidates\.1\.widht: unknown key"),
    ("choose: auto", "choose: w7", r"r\.yaml:\d+: student: .*choose: expected 'auto' or one of \['w0', 'w1', 'w2'\]"),
    ("name: w2", "name: w0", r"student: .*expected unique candidate names other than 'auto', got \['w0'\]"),
    ("  choose: auto\n", "", r"student\.choose: required field is missing"),
])
def test_ladder_mistakes_name_the_field_and_line(tmp_path, old, new, message):
    text = ladder_text()
    assert old in text
    with pytest.raises(BadInput, match=message):
        _load(tmp_path, text.replace(old, new, 1))
