"""Pruning reaches the artifact: zeros counted in the int8 flatbuffer, magnitude (50%) and 2:4."""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgebuild.base.errors import BadInput
from flatbuffer_weights import weight_arrays, zero_fraction
from tiny_builds import TWO_BY_FOUR, write_recipe


def test_half_pruned_recipe_gives_an_int8_artifact_with_half_zeros(tiny_build):
    folder = tiny_build / "out" / "tiny" / "android-flagship"
    report = json.loads((folder / "report.json").read_text())
    counted = zero_fraction((folder / "model.tflite").read_bytes())
    prune = next(stage for stage in report["stages"] if stage["name"] == "prune")
    assert counted >= 0.49
    assert abs(prune["sparsity"] - counted) <= 0.01


def test_2_by_4_recipe_gives_an_artifact_with_2_zeros_in_every_4_input_channels(pcqat_build):
    groups_checked = 0
    for weights in weight_arrays(pcqat_build.int8_bytes):
        channels_in = weights.shape[-1]
        rows = weights.reshape(-1, channels_in)
        groups = rows[:, : channels_in - channels_in % 4].reshape(-1, 4)  # a 1-channel stem has none
        assert (np.count_nonzero(groups == 0, axis=1) >= 2).all(), weights.shape
        groups_checked += len(groups)
    assert groups_checked >= 100


def test_2_by_4_sparsity_in_the_report_is_measured(pcqat_build):
    # Measured in the kernels, not copied from the pattern: the stem's single input channel cannot
    # be grouped, so it stays dense and the whole model lands a little under 50%.
    measured = pcqat_build.metrics("prune")["sparsity"]
    assert 0.4 < measured < 0.5


@pytest.mark.parametrize("total_steps", [3, 10, 90, 1000])
def test_pruning_schedule_reaches_its_target_on_a_pruning_step(total_steps):
    from edgebuild.toolchain.prune import pruning_schedule

    schedule = pruning_schedule(0.5, total_steps)
    fired = [float(sparsity) for step in range(total_steps)
             for should_prune, sparsity in [schedule(np.int64(step))] if bool(should_prune)]
    assert fired and fired[-1] == pytest.approx(0.5)


@pytest.mark.parametrize("prune, fragment", [
    ({"target_sparsity": 0.5, "m_by_n": [2, 4]}, "exactly one of"),
    ({"m_by_n": [4, 4]}, "m < n"),
])
def test_contradictory_prune_sections_are_bad_input(tmp_path, prune, fragment):
    from edgebuild.config.recipe import load_recipe

    path = write_recipe(tmp_path, prune={**prune, "training": TWO_BY_FOUR["training"]})
    with pytest.raises(BadInput, match=fragment):
        load_recipe(str(path))
