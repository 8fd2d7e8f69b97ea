"""A recipe that passes at int8 stops at rung 1 of the search: the conversion is the one it had without it."""

from __future__ import annotations

import json
import shutil

import numpy as np

from cli_runner import run_edgebuild
from edgebuild.converters.flatbuffer import read_model
from tiny_recipe import TINY_RECIPE


def test_search_in_the_recipe_reuses_the_cached_int8_conversion_and_ships_rung_1(tiny_build, tmp_path):
    shutil.copytree(tiny_build / "cache", tmp_path / "cache")
    searched_recipe = TINY_RECIPE.replace("  representative_samples: 50\n",
                                          "  representative_samples: 50\n  search: {max_trials: 6}\n")
    assert searched_recipe != TINY_RECIPE
    (tmp_path / "tiny.yaml").write_text(searched_recipe)

    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    plain, searched = (json.loads((root / "out/tiny/android-flagship/report.json").read_text())
                       for root in (tiny_build, tmp_path))
    assert searched["precision_search"]["shipped"] == 1 and len(searched["precision_search"]["rungs"]) == 1
    convert_rows = [next(row for row in report["stages"] if row["name"] == "convert") for report in (plain, searched)]
    assert convert_rows[0]["key"] == convert_rows[1]["key"] and convert_rows[1]["cached"]
    models = [read_model((root / "out/tiny/android-flagship/model.tflite").read_bytes()) for root in (tiny_build, tmp_path)]
    assert [op.name for op in models[0].ops] == [op.name for op in models[1].ops]
    for (_, before), (_, after) in zip(models[0].weights(), models[1].weights(), strict=True):
        np.testing.assert_array_equal(before, after)
