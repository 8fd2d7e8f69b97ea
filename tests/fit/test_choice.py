"""Choosing: the largest candidate that fits, a smaller one under a tight budget, exit 1 when none fits."""

from __future__ import annotations

import json

import pytest
import yaml

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.config.targets import load_targets
from edgebuild.app.fit import predict_fit
from edgebuild.base.tfenv import tool_versions
from fit_builds import built_artifact, digits
from fit_recipes import write_ladder, write_profile
from tiny_recipe import TINY_RECIPE

PREDICTED_KEYS = {"size_bytes", "gzip_bytes", "peak_memory_bytes", "macs", "host_latency_ms"}


@pytest.fixture(scope="module")
def ladder(tmp_path_factory):
    """A three-rung ladder and its predictions for android-flagship, where every rung fits."""
    folder = tmp_path_factory.mktemp("ladder")
    recipe, recipe_path, (target,) = load_targets(str(write_ladder(folder)), ["android-flagship"])
    dataset = digits(recipe, recipe_path)
    result = predict_fit(recipe, target, dataset.input_shape, dataset.num_classes, tool_versions())
    return folder, recipe, recipe_path, dataset, result


def test_auto_chooses_the_largest_candidate_that_fits(ladder):
    _, _, _, _, result = ladder
    assert [c.name for c in result.candidates] == ["w2", "w1", "w0"]  # largest first
    sizes = [c.predicted.size_bytes for c in result.candidates]
    assert sizes == sorted(sizes, reverse=True)
    assert all(c.fits and not c.reasons for c in result.candidates)
    assert result.chosen == "w2" and result.fits


def test_a_tight_size_budget_chooses_a_smaller_candidate_that_then_fits(ladder):
    folder, recipe, recipe_path, dataset, result = ladder
    largest, middle = result.candidates[0].predicted.size_bytes, result.candidates[1].predicted.size_bytes
    budget = (largest + middle) // 2
    tight = write_profile(folder, "android-flagship", "tight.yaml", size_bytes=budget)

    fitted = run_edgebuild("fit", recipe_path.name, "--profile", tight.name, "--json", cwd=folder)
    assert fitted.returncode == 0, fitted.stderr
    report = json.loads(fitted.stdout)
    assert report["chosen"] == "w1" and report["fits"] is True
    assert [c["student"] for c in report["candidates"]] == ["w2", "w1", "w0"]
    for candidate in report["candidates"]:
        assert PREDICTED_KEYS <= set(candidate["predicted"]) and set(candidate) >= {"student", "fits", "reasons"}
    rejected = report["candidates"][0]
    assert rejected["fits"] is False
    assert rejected["reasons"] == [f"predicted size_bytes {largest} B exceeds the limit {budget} B"]

    _, _, (target,) = load_targets(str(recipe_path), [str(tight)])
    assert len(built_artifact(recipe, recipe_path, target, "w1", dataset)) <= budget


def test_a_budget_below_every_candidate_exits_1_naming_budget_and_numbers(ladder):
    folder, _, recipe_path, _, result = ladder
    smallest = result.candidates[-1].predicted.size_bytes
    budget = smallest // 2
    write_profile(folder, "android-flagship", "tiny.yaml", size_bytes=budget, gzip_bytes=budget)

    failed = run_edgebuild("fit", recipe_path.name, "--profile", "tiny.yaml", cwd=folder)
    assert_one_line_error(failed, 1, "no student candidate fits", "'w0'", "android-flagship",
                          f"predicted size_bytes {smallest} B exceeds the limit {budget} B")
    assert "w2" in failed.stdout and "none fits" in failed.stdout  # the table is still shown


def test_one_student_and_a_pinned_candidate_are_assessed_not_replaced(tmp_path):
    from edgebuild.config.recipe import load_recipe
    from edgebuild.toolchain.students import build_student

    one_path = tmp_path / "one.yaml"
    one_path.write_text(TINY_RECIPE)
    pinned_path = write_ladder(tmp_path, choose="w0")
    fast = write_profile(tmp_path, "android-flagship", "fast.yaml")
    document = yaml.safe_load(fast.read_text())
    document["latency"]["throughput_gmacs"] = 2.0
    fast.write_text(yaml.safe_dump(document))

    recipe, recipe_path, targets = load_targets(str(one_path), ["android-flagship", str(fast)])
    results = [predict_fit(recipe, target, (8, 8, 1), 10, tool_versions()) for target in targets]
    assert [(r.chosen, r.fits, len(r.candidates)) for r in results] == [(None, True, 1), (None, True, 1)]
    assert results[0].student is recipe.student
    macs = results[1].candidates[0].predicted.macs
    assert macs == _keras_macs(build_student(recipe.student, (8, 8, 1), 10))
    assert results[0].candidates[0].predicted.device_latency_ms is None
    assert results[1].candidates[0].predicted.device_latency_ms == pytest.approx(macs / 2.0e9 * 1e3, abs=1e-4)

    pinned, pinned_path = load_recipe(str(pinned_path))
    _, _, (target,) = load_targets(str(pinned_path), ["android-flagship"])
    result = predict_fit(pinned, target, (8, 8, 1), 10, tool_versions())
    assert result.chosen == "w0" and result.student == pinned.student.students()[0]
    assert all(c.fits for c in result.candidates)  # w0 is pinned although larger ones fit


def _keras_macs(model) -> int:
    """Multiply-accumulates counted from the Keras layers' shapes."""
    import tf_keras as keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            _, height, width, channels = layer.output_shape
            total += height * width * channels * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, keras.layers.Conv2D):
            _, height, width, channels = layer.output_shape
            total += height * width * channels * layer.kernel_size[0] * layer.kernel_size[1] * layer.input_shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input_shape[-1] * layer.units
    return total


def test_fit_is_cached_per_profile_and_reruns_when_the_profile_changes(ladder, tmp_path):
    from edgebuild.app.build import recipe_context
    from edgebuild.app.pipeline import walk

    folder, recipe, recipe_path, dataset, result = ladder

    def fits(*profiles):
        ctx = recipe_context(str(recipe_path), list(profiles), cache_root=tmp_path / "cache")
        return [(run.output, run.cached) for step, _, run in walk(ctx, until="fit").log if step.name == "fit"]

    [(first, cached)] = fits("android-flagship")
    assert not cached and first.chosen == result.chosen == "w2"
    [(again, cached)] = fits("android-flagship")
    assert cached and again == first  # host latency predictions included: read back, not measured again
    smaller = (result.candidates[0].predicted.size_bytes + result.candidates[1].predicted.size_bytes) // 2
    tight = write_profile(folder, "android-flagship", "tight-cached.yaml", size_bytes=smaller)
    assert [(fit.chosen, cached) for fit, cached in fits("android-flagship", str(tight))] == [("w2", True),
                                                                                              ("w1", False)]
