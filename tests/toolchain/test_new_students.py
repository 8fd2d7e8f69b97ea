"""Every registered student prunes, QAT-trains (plain and sparsity-preserving) and converts to
full-integer int8 with no float op, on a tiny input, through the real TF-MOT and converter."""

from __future__ import annotations

import numpy as np
import pytest

from flatbuffer_weights import zero_fraction

TINY_STUDENTS = {
    "mobilenet_v3_small": {"stem_channels": 8, "blocks": [
        {"channels": 8, "stride": 2, "expansion": 2, "activation": "relu"},
        {"channels": 16, "stride": 1, "expansion": 3, "kernel": 5},
        {"channels": 16, "stride": 1, "expansion": 3, "squeeze_excite": False}]},
    "efficientnet_lite": {"stem_channels": 8, "head_channels": 32, "blocks": [
        {"channels": 8, "expansion": 1}, {"channels": 16, "stride": 2, "kernel": 5, "repeats": 2}]},
    "resnet8": {"filters": [8, 16, 16]},
    "ds_cnn": {"filters": 16, "separable_blocks": 2, "first_kernel": [4, 2], "first_stride": [1, 1]},
}


@pytest.fixture(scope="module")
def digits_8x8():
    from edgebuild.base import tfenv
    from edgebuild.toolchain.data import load_dataset

    tfenv.tensorflow(0)
    return load_dataset("sklearn:digits", (8, 8), seed=0)


def _student(name: str, data):
    from edgebuild.config.students import student_config
    from edgebuild.toolchain.students import build_student

    return build_student(student_config({"architecture": name, **TINY_STUDENTS[name]}), data.input_shape,
                         data.num_classes)


def _pruned(model, data):
    import tensorflow_model_optimization as tfmot

    from edgebuild.toolchain.prune import pruning_schedule
    from edgebuild.toolchain.training import sparse_categorical_loss

    sparsity = tfmot.sparsity.keras
    wrapped = sparsity.prune_low_magnitude(model, pruning_schedule=pruning_schedule(0.5, 8))
    wrapped.compile(optimizer="adam", loss=sparse_categorical_loss())
    wrapped.fit(data.x_train[:512], data.y_train[:512], epochs=1, batch_size=64, verbose=0,
                callbacks=[sparsity.UpdatePruningStep()])
    return sparsity.strip_pruning(wrapped)


def _int8(model, data, folder) -> bytes:
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert, representative_images
    from edgebuild.toolchain.training import sparse_categorical_loss

    model.compile(optimizer="adam", loss=sparse_categorical_loss())
    model.fit(data.x_train[:256], data.y_train[:256], epochs=1, batch_size=64, verbose=0)
    export_saved_model(model, folder)
    return convert(folder, "int8", "int8", representative_images(data.x_train, 32, 0))


def _assert_full_integer(model_bytes: bytes) -> None:
    from edgebuild.converters.flatbuffer import read_model

    info = read_model(model_bytes)
    assert info.float_ops() == ()
    assert {tensor.dtype for tensor in info.inputs + info.outputs} == {"int8"}


@pytest.mark.parametrize("name", sorted(TINY_STUDENTS))
def test_a_student_qat_trains_and_converts_to_full_integer(tmp_path, digits_8x8, name):
    from edgebuild.toolchain.qat import quantization_aware

    _assert_full_integer(_int8(quantization_aware(_student(name, digits_8x8)), digits_8x8, tmp_path / "m"))


@pytest.mark.parametrize("name", sorted(TINY_STUDENTS))
def test_a_student_prunes_and_pqat_keeps_its_zeros_in_full_integer(tmp_path, digits_8x8, name):
    from edgebuild.toolchain.qat import quantization_aware

    pruned = _pruned(_student(name, digits_8x8), digits_8x8)
    model_bytes = _int8(quantization_aware(pruned, pruned=True), digits_8x8, tmp_path / "m")
    _assert_full_integer(model_bytes)
    assert zero_fraction(model_bytes) >= 0.45


def test_mobilenet_v3_small_has_hard_swish_and_squeeze_excite(tmp_path, digits_8x8):
    from edgebuild.converters.flatbuffer import read_model
    from edgebuild.toolchain.qat import quantization_aware

    ops = {op.name for op in read_model(_int8(quantization_aware(_student("mobilenet_v3_small", digits_8x8)),
                                              digits_8x8, tmp_path / "m")).ops}
    assert {"HARD_SWISH", "MUL", "MEAN"} <= ops, ops


def test_hard_swish_computes_what_the_paper_defines():
    from edgebuild.toolchain.students.quantizable_layers import custom_layers

    x = np.linspace(-5, 5, 21, dtype=np.float32)
    layers = custom_layers()
    np.testing.assert_allclose(layers["HardSwish"]()(x).numpy(), x * np.clip(x + 3, 0, 6) / 6, atol=1e-6)
    np.testing.assert_allclose(layers["HardSigmoid"]()(x).numpy(), np.clip(x + 3, 0, 6) / 6, atol=1e-6)
