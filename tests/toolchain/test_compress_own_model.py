"""Compress my own model: `student: {from: teacher}` prunes, QAT-trains and converts the user's
tf_keras model itself, without distillation, to a full-integer artifact."""

from __future__ import annotations

import json

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from flatbuffer_weights import zero_fraction
from tiny_builds import write_recipe

PRUNE = {"target_sparsity": 0.5, "training": {"epochs": 3, "batch_size": 64, "learning_rate": 0.002},
         "max_accuracy_drop": 0.2}


def _own_model(path):
    """The user's model: a small tf_keras CNN trained on 8x8 digits, saved as .keras."""
    from edgebuild.base import tfenv
    from edgebuild.toolchain.data import load_dataset
    from edgebuild.toolchain.training import keras

    tfenv.tensorflow(0)
    data = load_dataset("sklearn:digits", (8, 8), seed=3)
    model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.Flatten(),
                              keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data.x_train, data.y_train, epochs=10, batch_size=64, verbose=0)
    model.save(str(path))
    return path


def _compress_recipe(folder, model_name: str, **sections):
    return write_recipe(folder, teacher={"path": model_name}, student={"from": "teacher"}, distill=None,
                        prune=PRUNE, **sections)


def test_my_own_model_is_pruned_qat_trained_and_converted_to_full_integer(tmp_path):
    _own_model(tmp_path / "mine.keras")
    _compress_recipe(tmp_path, "mine.keras")
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    artifact = next((tmp_path / "out").rglob("model.tflite"))
    assert zero_fraction(artifact.read_bytes()) >= 0.49
    report = json.loads(next((tmp_path / "out").rglob("report.json")).read_text())
    assert [stage["name"] for stage in report["stages"] if not stage["name"] in ("verify",)][:5] == \
        ["data", "teacher", "prune", "qat", "export"]
    assert report["artifact"]["inputs"][0]["dtype"] == "int8"
    assert report["passed"] is True


@pytest.mark.slow
def test_a_keras3_model_cannot_be_pruned_and_converts_post_training(tmp_path):
    import keras

    from edgebuild.toolchain.data import load_dataset

    data = load_dataset("sklearn:digits", (8, 8), seed=3)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(data.x_train, data.y_train, epochs=20, batch_size=64, verbose=0)
    model.save(tmp_path / "mine.keras")
    _compress_recipe(tmp_path, "mine.keras")
    build = ("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out")
    assert_one_line_error(run_edgebuild(*build, cwd=tmp_path), 2, "student.from: teacher", "Keras 3", "prune, qat",
                          "remove those sections to convert it post-training")

    write_recipe(tmp_path, teacher={"path": "mine.keras"}, student={"from": "teacher"}, distill=None, prune=None,
                 qat=None)
    built = run_edgebuild(*build, cwd=tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    report = json.loads(next((tmp_path / "out").rglob("report.json")).read_text())
    assert report["passed"] is True and report["artifact"]["inputs"][0]["dtype"] == "int8"
