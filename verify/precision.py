"""What precision a .tflite actually computes in, read from its tensors rather than trusted from a label."""

from __future__ import annotations

from edgebuild.converters.flatbuffer import ModelInfo

_WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL")
_INTEGER = ("int8", "uint8", "int16")


def detect_precision(info: ModelInfo) -> str:
    """int8: integer weights and activations; dynamic_range: integer weights, float activations;
    float16: float16 weights dequantized at load; float32 otherwise."""
    weighted = [op for op in info.ops if op.name in _WEIGHTED_OPS and len(op.inputs) > 1]
    weight_dtypes = {info.tensors[op.inputs[1]].dtype for op in weighted if op.inputs[1] >= 0}
    activation_dtypes = {info.tensors[op.inputs[0]].dtype for op in weighted if op.inputs[0] >= 0}
    if weight_dtypes & set(_INTEGER):
        return "int8" if activation_dtypes <= set(_INTEGER) else "dynamic_range"
    if any(t.is_constant and t.dtype == "float16" for t in info.tensors):
        return "float16"
    if not weighted and info.tensors and all(t.dtype in _INTEGER for t in info.inputs):
        return "int8"
    return "float32"
