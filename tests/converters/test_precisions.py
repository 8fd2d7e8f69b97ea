"""Every precision a device runs, converted from one exported SavedModel and measured in the interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebuild.converters import litert_quant, tflite
from edgebuild.converters.export import export_saved_model
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.precision import detect_precision

VARIANTS = [("int8", "int8"), ("int8", "uint8"), ("int8", "float32"), ("float16", "float32"),
            ("dynamic_range", "float32"), ("int16x8", "float32"), ("weight_only_int4", "float32"),
            ("float32", "float32")]


@pytest.fixture(scope="module")
def digits():
    from edgebuild.toolchain.data import load_dataset

    return load_dataset("sklearn:digits", (8, 8), validation_fraction=0.1, test_fraction=0.2, seed=0)


@pytest.fixture(scope="module")
def dense_classifier(keras, digits, tmp_path_factory) -> Path:
    """64 → 256 → 10: its weights, not the flatbuffer's tables, make up the file."""
    model = keras.Sequential([keras.layers.Input((8, 8, 1), name="image"), keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(256, activation="relu", name="hidden"),
                              keras.layers.Dense(10, name="logits")])
    model.compile(keras.optimizers.Adam(0.005), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train, digits.y_train, epochs=10, batch_size=64, verbose=0)
    folder = tmp_path_factory.mktemp("dense_classifier") / "saved_model"
    export_saved_model(model, folder)
    return folder


@pytest.fixture(scope="module")
def converted(dense_classifier, digits) -> dict[tuple[str, str], bytes]:
    calibration = tflite.representative_images(digits.x_train, 200, seed=0)
    return {(precision, io): tflite.convert(dense_classifier, precision, io, calibration)
            for precision, io in VARIANTS}


def _interpreter_accuracy(model_bytes: bytes, digits, tmp_path: Path) -> float:
    from ai_edge_litert.interpreter import Interpreter
    from edgebuild.on_device_bench.accuracy import top1_accuracy

    data = tmp_path / "test.npz"
    np.savez(data, x=digits.x_test, y=digits.y_test)
    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    return top1_accuracy(interpreter, str(data))["top1"]


@pytest.mark.parametrize("precision, io_dtype", VARIANTS)
def test_each_variant_is_what_its_file_says(converted, precision, io_dtype):
    info = read_model(converted[precision, io_dtype])

    assert detect_precision(info) == precision
    assert [t.dtype for t in info.inputs] == [io_dtype] and [t.dtype for t in info.outputs] == [io_dtype]


def test_full_integer_variants_leave_no_float_op(converted):
    for io_dtype in ("int8", "uint8"):
        assert read_model(converted["int8", io_dtype]).float_ops() == ()


def test_float16_artifact_is_half_the_float32_artifact(converted):
    ratio = len(converted["float16", "float32"]) / len(converted["float32", "float32"])

    assert ratio == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("precision, io_dtype", [("dynamic_range", "float32"), ("int8", "uint8"),
                                              ("int16x8", "float32")])
def test_quantized_variant_keeps_float_accuracy(converted, digits, tmp_path, precision, io_dtype):
    float_top1 = _interpreter_accuracy(converted["float32", "float32"], digits, tmp_path)
    top1 = _interpreter_accuracy(converted[precision, io_dtype], digits, tmp_path)

    assert float_top1 > 0.9  # a model worth quantizing, or the comparison says nothing
    assert abs(top1 - float_top1) <= 0.015


def test_int4_weights_shrink_the_file_and_stay_close(converted, digits, tmp_path):
    float32 = converted["float32", "float32"]
    int4 = converted["weight_only_int4", "float32"]

    # 4-bit weights are an eighth of float32's; the scales, the graph and the float biases add the rest
    # (measured: 0.20 of the float32 file on this model, which varies by a few bytes between runs).
    assert len(int4) < 0.25 * len(float32)
    assert _interpreter_accuracy(int4, digits, tmp_path) >= _interpreter_accuracy(float32, digits, tmp_path) - 0.05


def test_representative_draw_depends_only_on_the_seed(digits):
    first = tflite.representative_images(digits.x_train, 50, seed=7)

    np.testing.assert_array_equal(first, tflite.representative_images(digits.x_train, 50, seed=7))
    assert not np.array_equal(first, tflite.representative_images(digits.x_train, 50, seed=8))
    assert len(tflite.representative_images(digits.x_train, 10**6, seed=7)) == len(digits.x_train)


@pytest.mark.parametrize("io_dtype", ["int8", "float32"])
def test_octav_clipped_int8_is_full_integer_int8_and_keeps_float_accuracy(converted, dense_classifier, digits,
                                                                           tmp_path, io_dtype):
    calibration = tflite.representative_images(digits.x_train, 1000, seed=0)
    clipped = tflite.convert_clipped_int8(dense_classifier, io_dtype, calibration)
    info = read_model(clipped)

    assert detect_precision(info) == "int8"
    assert [t.dtype for t in info.inputs] == [io_dtype] and [t.dtype for t in info.outputs] == [io_dtype]
    if io_dtype == "int8":
        assert info.float_ops() == ()
    else:  # float I/O: only the QUANTIZE in and the DEQUANTIZE out touch a float tensor
        assert sorted(op.name for op in info.float_ops()) == ["DEQUANTIZE", "QUANTIZE"]
    float_top1 = _interpreter_accuracy(converted["float32", "float32"], digits, tmp_path)
    assert abs(_interpreter_accuracy(clipped, digits, tmp_path) - float_top1) <= 0.015


def test_octav_clipping_changes_the_weights_not_the_graph(converted, dense_classifier, digits):
    calibration = tflite.representative_images(digits.x_train, 200, seed=0)
    plain = read_model(litert_quant.quantize(converted["float32", "float32"], litert_quant.INT8_RECIPE, calibration,
                                             io_dtype="int8"))
    clipped = read_model(tflite.convert_clipped_int8(dense_classifier, "int8", calibration))

    assert [op.name for op in plain.ops] == [op.name for op in clipped.ops]
    assert any(not np.array_equal(before, after)
               for (_, before), (_, after) in zip(plain.weights(), clipped.weights(), strict=True))
