"""Tiny real models, converted once per session, and helpers that run the runner as a child."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

RUNNER_SOURCE = Path(__file__).resolve().parents[2] / "on_device_bench"
CLASSES = 3
IMAGE_SHAPE = (4, 4, CLASSES)


def _tensorflow():
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tf_keras

    return tf, tf_keras


def _channel_classifier():
    """Class = the channel with the largest mean: identity 1x1 conv, average pool, identity dense."""
    tf, keras = _tensorflow()
    image = keras.Input(IMAGE_SHAPE, name="image")
    features = keras.layers.Conv2D(
        CLASSES, 1, name="conv", kernel_initializer=keras.initializers.Constant(np.eye(CLASSES))
    )(image)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    logits = keras.layers.Dense(
        CLASSES, name="logits", kernel_initializer=keras.initializers.Constant(np.eye(CLASSES))
    )(pooled)
    return tf, keras.Model(image, logits)


def _channel_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Images whose channel `label` is bright and the others dim: the classifier's known answers."""
    random = np.random.default_rng(seed)
    images = random.uniform(0.0, 0.3, size=(len(labels),) + IMAGE_SHAPE).astype(np.float32)
    images[np.arange(len(labels)), :, :, labels] += 0.6
    return images


@pytest.fixture(scope="session")
def float_classifier(tmp_path_factory) -> Path:
    tf, model = _channel_classifier()
    path = tmp_path_factory.mktemp("models") / "float_classifier.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


@pytest.fixture(scope="session")
def int8_classifier(tmp_path_factory) -> Path:
    tf, model = _channel_classifier()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    labels = np.arange(60) % CLASSES
    converter.representative_dataset = lambda: ([image[None]] for image in _channel_images(labels))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    path = tmp_path_factory.mktemp("models") / "int8_classifier.tflite"
    path.write_bytes(converter.convert())
    return path


@pytest.fixture(scope="session")
def two_in_two_out(tmp_path_factory) -> Path:
    tf, keras = _tensorflow()
    vector = keras.Input((4,), name="vector")
    image = keras.Input((6, 6, 2), name="image")
    convolved = keras.layers.Conv2D(3, 3, name="conv")(image)
    joined = keras.layers.Concatenate(name="join")([keras.layers.Flatten()(convolved), vector])
    scores = keras.layers.Dense(5, name="scores")(joined)
    box = keras.layers.Dense(2, name="box")(vector)
    model = keras.Model([vector, image], [scores, box])
    path = tmp_path_factory.mktemp("models") / "two_in_two_out.tflite"
    path.write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return path


@pytest.fixture(scope="session")
def every_dtype(tmp_path_factory) -> Path:
    """One input per dtype the runner must feed, all cast to float and summed."""
    tf, _ = _tensorflow()
    dtypes = ["float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool"]
    specs = [tf.TensorSpec([1, 2], getattr(tf, dtype), name=dtype) for dtype in dtypes]

    @tf.function(input_signature=specs)
    def add_all(*inputs):
        return tf.add_n([tf.cast(value, tf.float32) for value in inputs])

    converter = tf.lite.TFLiteConverter.from_concrete_functions([add_all.get_concrete_function()], add_all)
    path = tmp_path_factory.mktemp("models") / "every_dtype.tflite"
    path.write_bytes(converter.convert())
    return path


@pytest.fixture(scope="session")
def custom_op_model(tmp_path_factory) -> Path:
    """BesselI0e has no TFLite builtin: with allow_custom_ops it becomes a custom op nobody provides."""
    tf, _ = _tensorflow()

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def bessel(values):
        return tf.math.bessel_i0e(values)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([bessel.get_concrete_function()], bessel)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.allow_custom_ops = True
    path = tmp_path_factory.mktemp("models") / "custom_op.tflite"
    path.write_bytes(converter.convert())
    return path


RunRunner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(params=["installed", "copied"])
def run_runner(request, tmp_path) -> RunRunner:
    """Runs the runner as `python -m edgebuild.on_device_bench` or, copied on its own, as
    `python -m on_device_bench` from a folder that holds nothing else."""
    if request.param == "installed":
        module = "edgebuild.on_device_bench"
    else:
        shutil.copytree(RUNNER_SOURCE, tmp_path / "on_device_bench",
                        ignore=shutil.ignore_patterns("__pycache__"))
        module = "on_device_bench"

    def run(*args: object, python: str = sys.executable, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", module, *map(str, args)],
            cwd=tmp_path, capture_output=True, text=True, timeout=timeout,
        )

    return run



@pytest.fixture
def labelled_data(tmp_path) -> Callable[..., Path]:
    """Writes an .npz of channel images: x drawn for `true_labels`, y as given (to be right or wrong)."""

    def write(true_labels: np.ndarray, y: np.ndarray, name: str = "data.npz") -> Path:
        path = tmp_path / name
        np.savez(path, x=_channel_images(np.asarray(true_labels)), y=np.asarray(y))
        return path

    return write
