"""A recipe that passes at int8 stops at rung 1 of the search: the artifact is the one it had without it."""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib import resources

import numpy as np
import pytest

from cli_runner import run_edgebuild
from edgebuild.base.cache import file_sha256
from edgebuild.config.recipe import RECIPES_PACKAGE, recipe_sha256
from edgebuild.converters.flatbuffer import read_model
from tiny_recipe import TINY_RECIPE

SAMPLES_LINE = "  representative_samples: 50\n"
SEARCH_LINE = "  search: {max_trials: 7}\n"


def test_search_in_the_recipe_reuses_the_cached_int8_conversion_and_ships_rung_1(tiny_build, tmp_path):
    shutil.copytree(tiny_build / "cache", tmp_path / "cache")
    searched_recipe = TINY_RECIPE.replace(SAMPLES_LINE, SAMPLES_LINE + SEARCH_LINE)
    assert searched_recipe != TINY_RECIPE
    (tmp_path / "tiny.yaml").write_text(searched_recipe)

    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    plain, searched = (json.loads((root / "out/tiny/android-flagship/report.json").read_text())
                       for root in (tiny_build, tmp_path))
    assert searched["precision_search"]["shipped"] == 1 and len(searched["precision_search"]["rungs"]) == 1
    convert_rows = [next(row for row in report["stages"] if row["name"] == "convert") for report in (plain, searched)]
    assert convert_rows[0]["key"] == convert_rows[1]["key"] and convert_rows[1]["cached"]
    artifacts = [(root / "out/tiny/android-flagship/model.tflite").read_bytes() for root in (tiny_build, tmp_path)]
    models = [read_model(artifact) for artifact in artifacts]
    assert [op.name for op in models[0].ops] == [op.name for op in models[1].ops]
    for (_, before), (_, after) in zip(models[0].weights(), models[1].weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # The metadata too: the search is not in the recipe's hash, and rung 1 writes no search record.
    assert hashlib.sha256(artifacts[0]).hexdigest() == hashlib.sha256(artifacts[1]).hexdigest()


def _hash_of(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return recipe_sha256(path)


def test_a_recipe_without_a_search_hashes_as_its_file():
    bundled = resources.files(RECIPES_PACKAGE) / "digits.yaml"

    assert recipe_sha256(bundled) == file_sha256(bundled)


@pytest.mark.parametrize("search", [SEARCH_LINE, "  search:\n    max_trials: 3\n\n    keep_float: 1\n",
                                    "  search: {}  # the defaults\n"])
def test_the_search_entry_is_cut_out_of_the_recipe_hash(tmp_path, search):
    plain = _hash_of(tmp_path, "plain.yaml", TINY_RECIPE)

    assert plain == hashlib.sha256(TINY_RECIPE.encode()).hexdigest()
    assert _hash_of(tmp_path, "searched.yaml", TINY_RECIPE.replace(SAMPLES_LINE, SAMPLES_LINE + search)) == plain
    assert _hash_of(tmp_path, "first.yaml", TINY_RECIPE.replace(SAMPLES_LINE, search + SAMPLES_LINE)) == plain


def test_a_convert_section_holding_only_the_search_goes_with_it(tmp_path):
    plain = TINY_RECIPE.replace("convert:\n" + SAMPLES_LINE, "")
    searched = TINY_RECIPE.replace("convert:\n" + SAMPLES_LINE, "convert:\n" + SEARCH_LINE)

    assert plain != TINY_RECIPE and _hash_of(tmp_path, "a.yaml", searched) == _hash_of(tmp_path, "b.yaml", plain)


def test_any_other_edit_changes_the_recipe_hash(tmp_path):
    searched = TINY_RECIPE.replace(SAMPLES_LINE, SAMPLES_LINE + SEARCH_LINE)
    hashes = {_hash_of(tmp_path, f"{index}.yaml", text) for index, text in enumerate([
        searched, searched.replace("seed: 3", "seed: 4"), searched.replace(SAMPLES_LINE, "  representative_samples: 60\n"),
        searched.replace("verify:", "# a comment\nverify:")])}

    assert len(hashes) == 4


def test_a_flow_style_search_is_still_left_out_of_the_hash(tmp_path):
    flow = TINY_RECIPE.replace("convert:\n" + SAMPLES_LINE, "convert: {representative_samples: 50, search: {max_trials: 3}}\n")

    assert _hash_of(tmp_path, "a.yaml", flow) == _hash_of(tmp_path, "b.yaml", flow.replace("max_trials: 3", "max_trials: 5"))
    assert _hash_of(tmp_path, "a.yaml", flow) != _hash_of(tmp_path, "c.yaml", flow.replace("50", "60"))
