"""Sensitivity names the op that loses int8 accuracy, by the accuracy keeping it float recovers."""

from __future__ import annotations

from edgebuild.app.sensitivity import model_sensitivity


def test_the_outlier_op_ranks_first_and_keeping_it_float_recovers_the_model(sensitive_keras):
    result = model_sensitivity(sensitive_keras, "sklearn:digits", top=2)
    worst, second = result.ops[:2]

    assert result.float_top1 > 0.9 and result.int8_top1 < 0.3  # the model is int8-sensitive
    assert worst.op.op == "FULLY_CONNECTED" and worst.snr < second.snr
    assert worst.recovered_accuracy >= result.float_top1 - 0.02
    assert second.recovered_accuracy < 0.3  # the hidden layer is not the culprit
    assert all(error.recovered_accuracy is None for error in result.ops[2:])
