"""Sensitivity names the op that loses int8 accuracy, by the accuracy keeping it float recovers."""

from __future__ import annotations

import pytest

from edgebuild.app.sensitivity import _float_file, model_sensitivity
from edgebuild.base.errors import BadInput
from edgebuild.converters.litert_quant import quantize


def test_the_layer_with_the_outlier_and_its_consumer_rank_worst(sensitive_keras):
    result = model_sensitivity(sensitive_keras, "sklearn:digits", top=2)

    assert result.float_top1 > 0.9 and result.int8_top1 < result.float_top1 - 0.1  # int8-sensitive
    # Errors compound down the graph: the two dense layers (outlier and consumer), then the reshape.
    assert [error.op.op for error in result.ops] == ["FULLY_CONNECTED", "FULLY_CONNECTED", "RESHAPE"]
    assert any("hidden" in error.op.tensor for error in result.ops[:2])
    assert [error.snr for error in result.ops] == sorted(error.snr for error in result.ops)
    # Its consumer re-quantizes its output to int8: keeping it alone float cannot undo the outlier.
    assert all(0 <= error.recovered_accuracy <= result.float_top1 + 0.02 for error in result.ops[:2])
    assert all(error.recovered_accuracy is None for error in result.ops[2:])


def test_a_float_tflite_is_its_own_reference_and_a_quantized_one_is_refused(sensitive_keras, tmp_path):
    float_bytes, _ = _float_file(sensitive_keras)
    (tmp_path / "float.tflite").write_bytes(float_bytes)
    (tmp_path / "int4.tflite").write_bytes(quantize(float_bytes, "weight_only_wi4_afp32"))

    from_tflite = model_sensitivity(tmp_path / "float.tflite", "sklearn:digits", top=0)
    assert [error.op for error in from_tflite.ops] == [error.op for error in
                                                       model_sensitivity(sensitive_keras, "sklearn:digits", top=0).ops]
    with pytest.raises(BadInput, match="int4.tflite: expected a float32 .tflite"):
        model_sensitivity(tmp_path / "int4.tflite", "sklearn:digits")
