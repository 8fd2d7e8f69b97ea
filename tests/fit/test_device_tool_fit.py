"""`fit` compiles untrained candidates with Vela (Ethos-U) or runs them in TFLite Micro (microcontrollers):
a budget only the device's own tool measures chooses the student."""

from __future__ import annotations

import pytest
import yaml

from edgebuild.app.fit import predict_fit
from edgebuild.base.tfenv import tool_versions
from edgebuild.config.profile import load_profile
from edgebuild.config.targets import load_targets
from fit_builds import digits
from fit_recipes import write_ladder


def _profile_with(folder, bundled: str, section: str, **values) -> str:
    _, source = load_profile(bundled)
    document = yaml.safe_load(source.read_text())
    document[section].update(values)
    document["name"] = f"tight-{bundled}"
    path = folder / f"tight-{bundled}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(path)


def _fit(recipe_path, profile: str):
    recipe, recipe_path, (target,) = load_targets(str(recipe_path), [profile])
    dataset = digits(recipe, recipe_path)
    return predict_fit(recipe, target, dataset.input_shape, dataset.num_classes, tool_versions())


@pytest.mark.parametrize("profile, section, field, figure", [
    ("alif-ensemble-e7", "npu", "sram_bytes", "npu_sram_bytes"),
    ("cortex-m7", "micro_runtime", "ram_bytes", "micro_arena_bytes"),
])
def test_a_device_tool_budget_chooses_a_smaller_candidate(tmp_path, profile, section, field, figure):
    recipe_path = write_ladder(tmp_path)
    measured = [getattr(candidate.predicted, figure) for candidate in _fit(recipe_path, profile).candidates]
    assert measured[0] > measured[1] > 0  # largest candidate first

    budget = (measured[0] + measured[1]) // 2
    result = _fit(recipe_path, _profile_with(tmp_path, profile, section, **{field: budget}))

    assert result.chosen == "w1" and result.fits
    rejected = result.candidates[0]
    assert not rejected.fits
    check = "npu_sram_bytes" if section == "npu" else "peak_memory_bytes"
    assert rejected.reasons == (f"predicted {check} {measured[0]} B exceeds the limit {budget} B",)
