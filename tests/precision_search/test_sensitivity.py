"""Sensitivity names the op that loses int8 accuracy, by the accuracy keeping it float recovers."""

from __future__ import annotations

from edgebuild.app.sensitivity import model_sensitivity


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
