"""What precision a .tflite actually computes in, read from its tensors rather than trusted from a label."""

from __future__ import annotations

from edgebuild.config.precisions import TensorFacts, detect
from edgebuild.converters.flatbuffer import ModelInfo

_WEIGHTED_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL")
_INTEGER_INPUTS = ("int8", "uint8", "int16")


def tensor_facts(info: ModelInfo) -> TensorFacts:
    """Dtypes of the weighted ops' weights and data inputs, and of every constant; a graph without
    weighted ops counts as integer when all its inputs are, else as float32."""
    weighted = [op for op in info.ops if op.name in _WEIGHTED_OPS and len(op.inputs) > 1]
    weights = {info.tensors[op.inputs[1]].dtype for op in weighted if op.inputs[1] >= 0}
    activations = {info.tensors[op.inputs[0]].dtype for op in weighted if op.inputs[0] >= 0}
    if not weighted:  # nothing computes with weights: the inputs say whether the graph runs in integers
        integer = info.inputs and all(tensor.dtype in _INTEGER_INPUTS for tensor in info.inputs)
        weights = activations = {"int8"} if integer else {"float32"}
    constants = {tensor.dtype for tensor in info.tensors if tensor.is_constant}
    return TensorFacts(frozenset(weights), frozenset(activations), frozenset(constants))


def detect_precision(info: ModelInfo) -> str:
    """The first precision in the registry whose dtypes the file's tensors fall within."""
    return detect(tensor_facts(info))
