"""A teacher is anything that runs: a Keras 3 `.keras` file or a `.tflite` file (how a PyTorch or
JAX model arrives) distills into a student through the real pipeline; the teacher only infers, once."""

from __future__ import annotations

import numpy as np
import pytest

from tiny_builds import write_recipe

DISTILL = {"temperature": 4.0, "alpha": 0.1, "training": {"epochs": 6, "batch_size": 64, "learning_rate": 0.01},
           "max_accuracy_drop": 0.5}


def _distill(folder, cache, teacher_path: str, **distill):
    """data → teacher (the file) → soft targets → distill, in this process, on the tiny recipe."""
    from edgebuild.app.build import recipe_context
    from edgebuild.app.pipeline import walk

    folder.mkdir(parents=True, exist_ok=True)
    path = write_recipe(folder, teacher={"path": teacher_path}, distill={**DISTILL, **distill}, prune=None,
                        qat=None)
    ctx = recipe_context(str(path), ["android-flagship"], cache_root=cache)
    return walk(ctx, until="distill").runs["android-flagship"]


def _digits_8x8():
    from edgebuild.toolchain.data import load_dataset

    return load_dataset("sklearn:digits", (8, 8), seed=3)


@pytest.fixture(scope="module")
def keras3_teacher(tmp_path_factory):
    """A CNN trained and saved with Keras 3 itself (TF 2.21's `import keras`), not tf_keras."""
    import keras

    data = _digits_8x8()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=8, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("keras3") / "teacher.keras"
    model.save(path)
    return path


@pytest.fixture(scope="module")
def tflite_teacher(tmp_path_factory):
    """A float .tflite classifier ending in softmax, as converters usually leave one."""
    import tensorflow as tf

    from edgebuild.toolchain.training import keras

    data = _digits_8x8()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(data.x_train, data.y_train, epochs=8, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("tflite") / "teacher.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


def test_a_keras3_file_is_recognised_by_its_metadata(keras3_teacher):
    from edgebuild.toolchain.foreign_models import is_keras3_file, keras_version_of

    assert keras_version_of(keras3_teacher).startswith("3.")
    assert is_keras3_file(keras3_teacher)


def test_a_keras3_teacher_distills_into_a_student(tmp_path, keras3_teacher):
    upstream = _distill(tmp_path, tmp_path / "cache", str(keras3_teacher))
    assert upstream.output("teacher").metrics["accuracy"] > 0.8
    assert upstream.output("distill").metrics["accuracy"] > 0.5
    assert upstream.output("soft_targets").logits.shape[1] == 10


def test_a_tflite_teacher_distills_and_a_second_distillation_does_not_run_it(tmp_path, tflite_teacher):
    cache = tmp_path / "cache"
    first = _distill(tmp_path / "first", cache, str(tflite_teacher))
    assert first.output("teacher").metrics["accuracy"] > 0.8
    assert first.output("distill").metrics["accuracy"] > 0.5
    # Its softmax outputs were taken back to logits: log-probabilities, so each row's exp sums to 1.
    assert np.allclose(np.exp(first.output("soft_targets").logits).sum(axis=1), 1.0, atol=1e-3)

    second = _distill(tmp_path / "second", cache, str(tflite_teacher), temperature=3.0)
    assert second.runs["teacher"].cached and second.runs["soft_targets"].cached
    assert not second.runs["distill"].cached


def test_feature_distillation_from_a_tflite_teacher_is_refused_naming_the_field(tmp_path, tflite_teacher):
    from edgebuild.base.errors import BadInput

    with pytest.raises(BadInput, match="distill.kind: feature needs a tf_keras teacher"):
        _distill(tmp_path, tmp_path / "cache", str(tflite_teacher), kind="feature")


def test_a_teacher_of_another_input_size_is_refused_naming_both(tmp_path, keras3_teacher):
    from edgebuild.app.build import recipe_context
    from edgebuild.app.pipeline import walk
    from edgebuild.base.errors import BadInput

    path = write_recipe(tmp_path, data={"source": "sklearn:digits", "input_size": [16, 16]},
                        teacher={"path": str(keras3_teacher)}, prune=None, qat=None)
    ctx = recipe_context(str(path), ["android-flagship"], cache_root=tmp_path / "cache")
    with pytest.raises(BadInput, match=r"teacher.path: .*teacher.keras: the model takes 8x8x1 images and scores 10 "
                                       r"classes; the recipe's data has 16x16x1 images"):
        walk(ctx, until="teacher")
