"""Refusals that name what is wrong: ops the converter cannot map, precisions a profile does not run."""

from __future__ import annotations

import numpy as np
import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.converters import tflite
from edgebuild.converters.export import export_saved_model
from edgebuild.toolchain.model_files import image_classifier_shape
from edgebuild.base.errors import BadInput, GateFailed
from tiny_recipe import TINY_RECIPE


def test_ops_without_a_tflite_kernel_are_named_with_counts(tf, keras, tmp_path):
    inputs = keras.layers.Input((8, 8, 1), name="image")
    hidden = keras.layers.Dense(8, name="hidden")(keras.layers.Flatten(name="flat")(inputs))
    outputs = keras.layers.Dense(3, name="logits")(tf.math.atan(tf.math.erf(tf.math.erf(hidden))))
    export_saved_model(keras.Model(inputs, outputs), tmp_path / "saved_model")
    calibration = np.random.default_rng(0).uniform(0, 1, (8, 8, 8, 1)).astype(np.float32)

    with pytest.raises(GateFailed) as refused:
        tflite.convert(tmp_path / "saved_model", "int8", "int8", calibration)

    message = str(refused.value)
    assert message.startswith("conversion to int8 failed: ") and "\n" not in message
    assert "Atan×1, Erf×2" in message and str(tmp_path) not in message


def test_recipe_precision_the_profile_does_not_run_is_refused_before_training(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)  # convert.precisions defaults to [int8]

    result = run_edgebuild("build", "tiny.yaml", "--profile", "iphone", "--out", "out", cwd=tmp_path)

    assert_one_line_error(result, 2, "convert.precisions ['int8']", "iphone", "float16")
    assert not (tmp_path / "cache").exists() and not (tmp_path / "out").exists()


def test_model_without_fixed_image_input_is_bad_input(keras, tmp_path):
    model = keras.Sequential([keras.layers.Input((None, None, 1)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(10)])

    with pytest.raises(BadInput, match="expected one image input"):
        image_classifier_shape(tmp_path / "any.keras", model)


def test_other_converter_failures_give_one_line(keras, tmp_path):
    inputs = keras.layers.Input((8, 8, 1), name="image")
    outputs = keras.layers.Dense(3, name="logits")(keras.layers.Flatten(name="flat")(inputs))
    export_saved_model(keras.Model(inputs, outputs), tmp_path / "saved_model")
    wrong_size = np.zeros((4, 5, 5, 1), np.float32)

    with pytest.raises(GateFailed, match=r"^conversion to int8 failed: \S") as refused:
        tflite.convert(tmp_path / "saved_model", "int8", "int8", wrong_size)

    assert "\n" not in str(refused.value)
