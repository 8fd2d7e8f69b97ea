"""Models made once per session with the real converter: edgebuild's own for the image classifier."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgebuild.base import tfenv

CLASSES = 10  # sklearn:digits, so the image model doubles as a classifier for --data
IMAGE_SHAPE = (8, 8, 1)


def _image_classifier(keras):
    return keras.Sequential([
        keras.layers.Input(IMAGE_SHAPE, name="digit"),
        keras.layers.Conv2D(4, 3, activation="relu", name="features"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(CLASSES, name="scores"),
    ])


def _multi_io(keras):
    """Two inputs of different ranks, two heads: the runner must feed and read each."""
    series = keras.layers.Input((5, 3), name="series")
    extra = keras.layers.Input((2,), name="extra")
    joined = keras.layers.Concatenate(name="joined")([keras.layers.Flatten(name="flat")(series), extra])
    return keras.Model([series, extra], [keras.layers.Dense(4, name="label")(joined),
                                         keras.layers.Dense(1, name="score")(joined)])


def _from_function(tf, function, **settings) -> bytes:
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
    for name, value in settings.items():
        setattr(converter, name, value)
    return converter.convert()


def _every_input_dtype(tf) -> bytes:
    dtypes = ("float32", "float16", "int8", "uint8", "int16", "int32", "bool")
    signature = [tf.TensorSpec([1, 3], getattr(tf, dtype), name=f"in_{dtype}") for dtype in dtypes]
    total = tf.function(lambda *values: tf.add_n([tf.cast(value, tf.float32) for value in values]),
                        input_signature=signature)
    return _from_function(tf, total)


def _between_convolutions(keras, activation):
    """conv → `activation` → conv → dense: an op an accelerator or a micro runtime may lack, mid-graph."""
    return keras.Sequential([
        keras.layers.Input(IMAGE_SHAPE, name="digit"),
        keras.layers.Conv2D(4, 3, activation="relu", name="first"),
        keras.layers.Lambda(activation, name="between"),
        keras.layers.Conv2D(4, 3, activation="relu", name="second"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(CLASSES, name="scores"),
    ])


def _int8_keeping_float_kernels(tf, model, calibration) -> bytes:
    """Full-int8 where an int8 kernel exists; an op with none (SIN) stays float between (de)quantize ops."""
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([sample[None]] for sample in calibration)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


def _custom_op(tf) -> bytes:
    """Erfinv has no TFLite builtin: the converter's custom-op allowance keeps it as a custom op."""
    inverse = tf.function(tf.math.erfinv, input_signature=[tf.TensorSpec([1, 6], tf.float32)])
    return _from_function(tf, inverse, allow_custom_ops=True)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Callable[[str], Path]:
    """`model_file(kind)`: the .tflite of that kind, converted on first use."""
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert

    tf = tfenv.tensorflow(seed=0)
    import tf_keras as keras

    folder = tmp_path_factory.mktemp("models")

    @functools.cache
    def image_classifier() -> Path:
        """Exported once, the way `edgebuild build` exports, then converted per precision."""
        export_saved_model(_image_classifier(keras), folder / "image_classifier")
        return folder / "image_classifier"

    calibration = np.random.default_rng(1).uniform(0, 16, (20, *IMAGE_SHAPE)).astype(np.float32)
    makers = {
        "float32": lambda: convert(image_classifier(), "float32", "float32", None),
        "float16": lambda: convert(image_classifier(), "float16", "float32", None),
        "int8": lambda: convert(image_classifier(), "int8", "int8", calibration),
        "multi_io": lambda: tf.lite.TFLiteConverter.from_keras_model(_multi_io(keras)).convert(),
        "every_input_dtype": lambda: _every_input_dtype(tf),
        "custom_op": lambda: _custom_op(tf),
        "sin_between_convolutions": lambda: _int8_keeping_float_kernels(
            tf, _between_convolutions(keras, tf.math.sin), calibration),
        "gelu_between_convolutions": lambda: _int8_keeping_float_kernels(
            tf, _between_convolutions(keras, keras.activations.gelu), calibration),
    }

    def get(kind: str) -> Path:
        path = folder / f"{kind}.tflite"
        if not path.exists():
            path.write_bytes(makers[kind]())
        return path

    return get
