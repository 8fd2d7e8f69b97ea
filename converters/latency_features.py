"""What a phone's latency depends on, read off a .tflite: MACs per op type, tensor sizes, op counts.

Counted in elements, not bytes, so one architecture has the same features in float32, float16 and
int8: the published rows the predictor is fitted on are float files, the artifacts it judges are
mostly int8, and precision is a separate axis of the fit (one fit per precision). MACs and shapes
do not depend on the weights, so a randomly initialised rebuild has the trained model's features.
"""

from __future__ import annotations

import math

from edgebuild.converters.artifact import multiply_accumulates_by_op
from edgebuild.converters.flatbuffer import ModelInfo

# Converter bookkeeping, not compute: int8 files gain a QUANTIZE at the input and a DEQUANTIZE at the
# output, float16 files one DEQUANTIZE per weight; counting them would make precision a feature.
_BOOKKEEPING_OPS = {"QUANTIZE", "DEQUANTIZE"}

FEATURES = ("macs_conv", "macs_depthwise", "macs_fully_connected", "weight_elements", "activation_elements",
            "op_count")


def latency_features(info: ModelInfo) -> dict[str, int]:
    """One value per name in FEATURES, for subgraph 0 of the file."""
    macs = multiply_accumulates_by_op(info)
    produced = {index for op in info.ops if op.name not in _BOOKKEEPING_OPS for index in op.outputs}
    return {
        "macs_conv": macs["CONV_2D"],
        "macs_depthwise": macs["DEPTHWISE_CONV_2D"],
        "macs_fully_connected": macs["FULLY_CONNECTED"],
        "weight_elements": info.parameter_count,
        # every intermediate result is written once and read at least once: the memory traffic an NPU pays
        "activation_elements": sum(math.prod(max(dim, 1) for dim in info.tensors[index].shape)
                                   for index in sorted(produced) if index >= 0),
        "op_count": sum(1 for op in info.ops if op.name not in _BOOKKEEPING_OPS),
    }
