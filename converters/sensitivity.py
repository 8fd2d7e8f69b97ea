"""Which ops lose an int8 model's accuracy: per-op error against the float file, and what keeping one float recovers.

The error of an op is litert-quantizer's comparison of its output tensor in the int8 file with the
same tensor in the float one, over calibration images. Errors compound down the graph, so a late op
can rank high for an early op's fault; the accuracy recovered when an op alone stays float
(NO_QUANTIZE) is the measurement that names the culprit.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebuild.converters import litert_quant
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.litert_quant import INT8_RECIPE, KeptFloat
from edgebuild.toolchain.datasets import save_labelled

# Flatbuffer op names litert-quantizer spells differently.
_QUANTIZER_OP_NAMES = {"TRANSPOSE_CONV": "CONV_2D_TRANSPOSE"}


@dataclass(frozen=True)
class OpError:
    op: KeptFloat
    snr: float  # signal-to-noise power ratio of the int8 tensor against the float one: lower is worse
    mse: float
    recovered_accuracy: float | None = None  # top-1 with this op alone kept float, when measured


def rank_ops(float_bytes: bytes, calibration: np.ndarray, probe: np.ndarray) -> list[OpError]:
    """Ops litert-quantizer can keep float, worst int8 error first (calibrated on `calibration`,
    compared on `probe`)."""
    from litert_quantizer.utils.validation_utils import ValidationErrorMetric

    q = litert_quant.quantizer_for(float_bytes, INT8_RECIPE)
    with litert_quant.quiet():
        q.quantize(q.calibrate(litert_quant.signature_batches(float_bytes, calibration)))
        compared = q.validate(litert_quant.signature_batches(float_bytes, probe),
                              error_metrics=[ValidationErrorMetric.SNR, ValidationErrorMetric.MSE])
    result = compared.get_signature_comparison_result(compared.available_signature_keys()[0])
    errors = {**result.intermediate_tensors, **result.output_tensors}
    ranked = [OpError(op, _finite(errors[op.tensor]["snr"]), errors[op.tensor]["mse"])
              for op in quantizable_ops(float_bytes) if op.tensor in errors]
    return sorted(ranked, key=lambda error: (error.snr, -error.mse))


def _finite(snr: float) -> float:
    return snr if math.isfinite(snr) else 1e9  # an exact match: no noise at all


def quantizable_ops(float_bytes: bytes) -> list[KeptFloat]:
    """Each op whose type litert-quantizer names, by its first output tensor."""
    from litert_quantizer.qtyping import TFLOperationName

    known = {name.value for name in TFLOperationName}
    info = read_model(float_bytes)
    ops = []
    for op in info.ops:
        name = _QUANTIZER_OP_NAMES.get(op.name, op.name)
        if name in known and op.outputs and op.outputs[0] >= 0:
            ops.append(KeptFloat(name, info.tensors[op.outputs[0]].name))
    return ops


def with_recovery(float_bytes: bytes, ranked: Sequence[OpError], calibration: np.ndarray,
                  x: np.ndarray, y: np.ndarray) -> list[OpError]:
    """`ranked`, each with the top-1 on (x, y) of the int8 file with that op alone kept float."""
    return [OpError(error.op, error.snr, error.mse,
                    top1(litert_quant.quantize(float_bytes, INT8_RECIPE, calibration, [error.op]), x, y))
            for error in ranked]


def most_recovering(float_bytes: bytes, calibration: np.ndarray, x: np.ndarray, y: np.ndarray,
                    k: int, candidates: int) -> list[KeptFloat]:
    """Up to k ops to keep float, chosen greedily among the `candidates` worst by error: each time the
    one whose fallback, beside those already kept, gives the best top-1 on (x, y). Greedy because an
    op's consumer re-quantizes its output: one op alone can recover nothing that two together do."""
    pool = [error.op for error in rank_ops(float_bytes, calibration, calibration)[:candidates]]
    kept: list[KeptFloat] = []
    for _ in range(min(k, len(pool))):
        scored = [(top1(litert_quant.quantize(float_bytes, INT8_RECIPE, calibration, [*kept, op]), x, y), -rank, op)
                  for rank, op in enumerate(pool) if op not in kept]
        kept.append(max(scored, key=lambda entry: entry[:2])[2])  # ties: the worse-ranked op
    return kept


def top1(model_bytes: bytes, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 of a single-input classifier on (x, y) in LiteRT, in this process (a model edgebuild made)."""
    from ai_edge_litert.interpreter import Interpreter
    from edgebuild.on_device_bench.accuracy import top1_accuracy

    interpreter = Interpreter(model_content=model_bytes)
    interpreter.allocate_tensors()
    with tempfile.TemporaryDirectory(prefix="edgebuild-sens-") as folder:
        data = Path(folder) / "data.npz"
        save_labelled(data, x, y)
        return top1_accuracy(interpreter, str(data))["top1"]
