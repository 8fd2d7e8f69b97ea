"""What a rebuild reuses beyond the training stages: the prepared data, the measurement of a
byte-identical model, and TensorFlow's import itself when nothing needs computing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from build_system_helpers import stages_run
from cli_runner import run_edgebuild
from edgebuild.base.cache import StageCache


def _build(workspace: Path, exit_code: int = 0):
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json",
                           cwd=workspace)
    assert result.returncode == exit_code, result.stderr
    report = json.loads((workspace / "out" / "tiny" / "android-flagship" / "report.json").read_text())
    return result, report


def test_measurement_of_identical_model_is_reused_and_checks_are_recomputed(workspace):
    _, before = _build(workspace)
    recipe = workspace / "tiny.yaml"
    # A QAT model's int8 conversion takes its ranges from training: fewer samples, same bytes.
    recipe.write_text(recipe.read_text().replace("representative_samples: 50", "representative_samples: 40")
                      .replace("min_accuracy: 0.5", "min_accuracy: 0.999"))
    result, after = _build(workspace, exit_code=1)
    assert stages_run(result.stdout) == {"convert", "verify"}
    assert after["measurement"]["reused"] is True
    assert after["latency_ms"]["p50"] == before["latency_ms"]["p50"]
    assert after["accuracy"]["artifact_all_data"] == before["accuracy"]["artifact_all_data"]
    assert after["passed"] is False  # the new limit is applied to the reused measurement
    assert "accuracy_top1" in [check["name"] for check in after["checks"] if not check["passed"]]


def test_changed_model_is_measured_again(workspace):
    recipe = workspace / "tiny.yaml"
    recipe.write_text(recipe.read_text().replace("target_sparsity: 0.5", "target_sparsity: 0.4"))
    _, report = _build(workspace)
    assert report["measurement"]["reused"] is False


def test_unchanged_rebuild_does_not_import_tensorflow(workspace):
    probe = ("import sys; from pathlib import Path; from edgebuild.app.build import build; "
             "results = build('tiny.yaml', ['android-flagship'], Path('out'), cache_root=Path('cache')); "
             "print(results[0].passed, 'tensorflow' in sys.modules)")
    finished = subprocess.run([sys.executable, "-c", probe], cwd=workspace, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["True", "False"]


def test_prepared_data_comes_from_the_cache_until_the_source_changes(tmp_path):
    from edgebuild.base.events import Events
    from edgebuild.base.stage import Upstream, run_cached
    from edgebuild.config.recipe import DataConfig
    from edgebuild.toolchain.data import DataStage

    rng = np.random.default_rng(0)
    source = tmp_path / "data.npz"
    np.savez(source, x=rng.integers(0, 256, (60, 8, 8), dtype=np.uint8), y=np.arange(60) % 3)
    cache = StageCache(tmp_path / "cache")
    stage = DataStage(DataConfig(source=str(source), input_size=(8, 8), validation_fraction=0.2), seed=1)

    def prepared():
        return run_cached(stage, Upstream(), cache, Events(), "data")

    first, second = prepared(), prepared()
    assert not first.cached and second.cached
    assert [entry.stage for entry in cache.entries()] == ["data"]
    assert second.output.sha256 == first.output.sha256
    for name in ("x_train", "y_train", "x_val", "x_test", "y_test", "x_all"):
        np.testing.assert_array_equal(getattr(second.output, name), getattr(first.output, name))
    assert second.output.normalization == first.output.normalization
    assert second.output.class_names == first.output.class_names
    np.savez(source, x=rng.integers(0, 256, (60, 8, 8), dtype=np.uint8), y=np.arange(60) % 3)
    third = prepared()
    assert not third.cached and third.output.sha256 != first.output.sha256
    assert len(cache.entries()) == 2
