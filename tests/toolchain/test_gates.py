"""Every stage is measured on held-out data; one that collapses, loses more accuracy than the recipe
allows or whose loss becomes NaN stops the build there: exit 1, naming the stage and the numbers."""

from __future__ import annotations

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.base.errors import GateFailed
from tiny_builds import train_tiny, write_recipe


def _build(tmp_path):
    return run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)


def test_nan_loss_stops_the_build_at_that_stage(tmp_path):
    # Adam moves each weight by about the learning rate per step: 1e30 overflows float32 in two steps.
    write_recipe(tmp_path, teacher={"architecture": {"filters": [8], "dense_units": 16},
                                    "training": {"epochs": 2, "batch_size": 64, "learning_rate": 1e30}})
    result = _build(tmp_path)
    assert_one_line_error(result, 1, "stage teacher", "NaN", "teacher.training.learning_rate")
    assert "[distill]" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_collapsing_mobilenet_v2_stops_at_distill(tmp_path):
    # Keras' MobileNetV2 BatchNorm momentum (0.999) at 32x32: the moving statistics barely leave their
    # initial values in ~60 steps, so the student scores chance at inference (measured).
    write_recipe(tmp_path,
                 data={"source": "sklearn:digits", "input_size": [32, 32]},
                 teacher={"architecture": {"filters": [8], "dense_units": 16, "dropout": 0.0},
                          "training": {"epochs": 2, "batch_size": 64, "learning_rate": 0.005}},
                 student={"architecture": "mobilenet_v2", "stem_channels": 8, "bn_momentum": 0.999,
                          "blocks": [{"channels": 8, "stride": 2, "expansion": 4},
                                     {"channels": 16, "stride": 2, "expansion": 4}]},
                 distill={"training": {"epochs": 3, "batch_size": 64, "learning_rate": 0.01},
                          "max_accuracy_drop": 0.9})
    result = _build(tmp_path)
    assert_one_line_error(result, 1, "stage distill collapsed", "min_stage_accuracy", "bn_momentum")
    assert "[prune]" not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_every_stage_reports_accuracy_parameters_size_and_time(pcqat_build):
    runs = pcqat_build.trained
    assert [run.name for run in runs] == ["teacher", "distill", "prune", "cluster", "qat"]
    for run in runs:
        metrics = run.output.metrics
        assert 0.0 <= metrics["accuracy"] <= 1.0 and metrics["train_seconds"] > 0
        assert metrics["size_bytes"] >= 4 * metrics["parameters"] > 0
    distilled = pcqat_build.metrics("distill")
    assert distilled["size_bytes"] == 4 * distilled["parameters"]  # a float32 model: its variables' bytes


def test_accuracy_drop_beyond_the_recipe_limit_stops_at_that_stage(tmp_path, toolchain_cache):
    prune = {"target_sparsity": 0.95, "training": {"epochs": 1, "batch_size": 64, "learning_rate": 0.002},
             "max_accuracy_drop": 0.0}
    with pytest.raises(GateFailed, match=r"stage prune: test accuracy fell .* more than prune.max_accuracy_drop"):
        train_tiny(tmp_path, toolchain_cache, convert=False, prune=prune, min_stage_accuracy=0.0)
