"""Tiny real models, converted once per session with the real TFLite converter."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf_keras, as TF-MOT needs; before any TF import
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import flatbuffers
import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema


@dataclass(frozen=True)
class ConvertedModel:
    path: Path
    keras_model: object

    @property
    def model_bytes(self) -> bytes:
        return self.path.read_bytes()


@pytest.fixture(scope="session")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture(scope="session")
def keras(tf):
    import tf_keras

    tf_keras.utils.set_random_seed(0)
    return tf_keras


@pytest.fixture(scope="session")
def save_tflite(tmp_path_factory) -> Callable[[bytes, str], Path]:
    def save(model_bytes: bytes, name: str) -> Path:
        path = tmp_path_factory.mktemp("models") / f"{name}.tflite"
        path.write_bytes(model_bytes)
        return path

    return save


def _small_cnn(keras):
    """Conv → Flatten → Dense, with non-zero biases: the converter drops all-zero bias tensors."""
    model = keras.Sequential(
        [
            keras.layers.Input((8, 8, 1), name="image"),
            keras.layers.Conv2D(4, 3, activation="relu", name="conv"),
            keras.layers.Flatten(name="flatten"),
            keras.layers.Dense(3, name="logits"),
        ]
    )
    for layer in (model.get_layer("conv"), model.get_layer("logits")):
        kernel, bias = layer.get_weights()
        layer.set_weights([kernel, np.linspace(0.1, 0.5, bias.size).astype(np.float32)])
    return model


def _calibration_batches():
    images = np.random.default_rng(0).uniform(0, 1, (16, 8, 8, 1)).astype(np.float32)
    return lambda: ([image[None]] for image in images)


@pytest.fixture(scope="session")
def float32_cnn(tf, keras, save_tflite) -> ConvertedModel:
    model = _small_cnn(keras)
    converted = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return ConvertedModel(save_tflite(converted, "float32_cnn"), model)


@pytest.fixture(scope="session")
def int8_cnn(tf, keras, save_tflite) -> ConvertedModel:
    model = _small_cnn(keras)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = _calibration_batches()
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    return ConvertedModel(save_tflite(converter.convert(), "int8_cnn"), model)


@pytest.fixture(scope="session")
def float16_cnn(tf, keras, save_tflite) -> ConvertedModel:
    model = _small_cnn(keras)
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [tf.float16]
    return ConvertedModel(save_tflite(converter.convert(), "float16_cnn"), model)


@pytest.fixture(scope="session")
def two_in_two_out(tf, keras, save_tflite) -> ConvertedModel:
    left = keras.layers.Input((6,), name="left")
    right = keras.layers.Input((5,), name="right")
    merged = keras.layers.Concatenate(name="merge")([left, right])
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(merged)
    model = keras.Model(
        [left, right], [keras.layers.Dense(2, name="head_a")(hidden), keras.layers.Dense(7, name="head_b")(hidden)]
    )
    converted = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return ConvertedModel(save_tflite(converted, "two_in_two_out"), model)


@pytest.fixture(scope="session")
def dense_chain(tf, keras, save_tflite) -> ConvertedModel:
    """40 → 100 → 20 → 3 floats: three FULLY_CONNECTED ops in a line."""
    model = keras.Sequential(
        [
            keras.layers.Input((40,), name="features"),
            keras.layers.Dense(100, activation="relu", name="wide"),
            keras.layers.Dense(20, activation="relu", name="narrow"),
            keras.layers.Dense(3, name="scores"),
        ]
    )
    converted = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    return ConvertedModel(save_tflite(converted, "dense_chain"), model)


@pytest.fixture(scope="session")
def unpack_model() -> Callable[[bytes], schema.ModelT]:
    return lambda model_bytes: schema.ModelT.InitFromPackedBuf(model_bytes, 0)


@pytest.fixture(scope="session")
def pack_model() -> Callable[[schema.ModelT], bytes]:
    def pack(model: schema.ModelT) -> bytes:
        builder = flatbuffers.Builder(0)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())

    return pack


@pytest.fixture(scope="session")
def with_external_buffers(unpack_model, pack_model) -> Callable[[bytes], bytes]:
    """The model laid out as converters lay out models over 2 GB: every non-empty buffer moved
    after the flatbuffer, addressed by Buffer.offset/size (16-byte aligned)."""

    def relayout(model_bytes: bytes) -> bytes:
        model = unpack_model(model_bytes)
        moved = [
            (buffer, bytes(buffer.data)) for buffer in model.buffers if buffer.data is not None and len(buffer.data)
        ]
        for buffer, data in moved:
            buffer.data, buffer.offset, buffer.size = None, 1 << 40, len(data)
        position = -(-len(pack_model(model)) // 16) * 16
        for buffer, data in moved:
            buffer.offset, position = position, -(-(position + len(data)) // 16) * 16
        layout = bytearray(pack_model(model))
        for buffer, data in moved:
            layout += bytes(buffer.offset - len(layout)) + data
        return bytes(layout)

    return relayout


@pytest.fixture(scope="session")
def run_tflite() -> Callable[[bytes, list[np.ndarray]], list[np.ndarray]]:
    """Outputs of one invoke in LiteRT, inputs given in the interpreter's input order."""
    from ai_edge_litert.interpreter import Interpreter

    def run(model_bytes: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
        interpreter = Interpreter(model_content=model_bytes)
        interpreter.allocate_tensors()
        for detail, value in zip(interpreter.get_input_details(), inputs, strict=True):
            interpreter.set_tensor(detail["index"], value)
        interpreter.invoke()
        return [interpreter.get_tensor(detail["index"]) for detail in interpreter.get_output_details()]

    return run
