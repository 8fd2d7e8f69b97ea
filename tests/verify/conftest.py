"""Models made once per session with the real converter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from edgebuild import tfenv

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


def _converted(tf, keras_model, precision: str = "float32") -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    if precision == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif precision == "int8":
        samples = np.random.default_rng(1).uniform(0, 16, (20, *IMAGE_SHAPE)).astype(np.float32)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([sample[None]] for sample in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


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


def _custom_op(tf) -> bytes:
    """Erfinv has no TFLite builtin: the converter's custom-op allowance keeps it as a custom op."""
    inverse = tf.function(tf.math.erfinv, input_signature=[tf.TensorSpec([1, 6], tf.float32)])
    return _from_function(tf, inverse, allow_custom_ops=True)


@pytest.fixture(scope="session")
def model_file(tmp_path_factory) -> Callable[[str], Path]:
    """`model_file(kind)`: the .tflite of that kind, converted on first use."""
    tf = tfenv.tensorflow(seed=0)
    import tf_keras as keras

    makers = {
        "float32": lambda: _converted(tf, _image_classifier(keras)),
        "float16": lambda: _converted(tf, _image_classifier(keras), "float16"),
        "int8": lambda: _converted(tf, _image_classifier(keras), "int8"),
        "multi_io": lambda: _converted(tf, _multi_io(keras)),
        "every_input_dtype": lambda: _every_input_dtype(tf),
        "custom_op": lambda: _custom_op(tf),
    }
    folder = tmp_path_factory.mktemp("models")

    def get(kind: str) -> Path:
        path = folder / f"{kind}.tflite"
        if not path.exists():
            path.write_bytes(makers[kind]())
        return path

    return get
