"""The facts about a .tflite that need no interpreter: size, gzip size, precision, arena, tensors."""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.errors import BadInput
from edgebuild.converters.arena import arena_estimate_bytes
from edgebuild.converters.flatbuffer import ModelInfo, read_model
from edgebuild.converters.precision import detect_precision

_MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass(frozen=True)
class Artifact:
    path: Path
    info: ModelInfo
    gzip_bytes: int
    precision: str
    arena_bytes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "sha256": self.info.sha256, "size_bytes": self.info.size_bytes,
            "gzip_bytes": self.gzip_bytes, "precision": self.precision, "parameters": self.info.parameter_count,
            "ops": self.info.op_counts,
            "inputs": [_tensor_dict(t) for t in self.info.inputs],
            "outputs": [_tensor_dict(t) for t in self.info.outputs],
        }


def read_artifact(path: Path) -> Artifact:
    """Parse a model file; an unusable one raises BadInput (exit 2)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise BadInput(f"{path}: cannot read model: {error.strerror or error}") from None
    info = read_model(data, source=str(path))
    gzip_bytes = len(gzip.compress(data, compresslevel=9, mtime=0))
    return Artifact(Path(path), info, gzip_bytes, detect_precision(info), arena_estimate_bytes(info))


def multiply_accumulates(info: ModelInfo) -> int:
    """MACs of one inference: convolutions and fully connected layers; element-wise ops and pooling add none."""
    return sum(multiply_accumulates_by_op(info).values())


def multiply_accumulates_by_op(info: ModelInfo) -> dict[str, int]:
    """MACs of one inference per op type (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED), each present once."""
    totals = dict.fromkeys(_MAC_OPS, 0)
    for op in info.ops:
        if op.name in _MAC_OPS:
            totals[op.name] += _op_macs(info, op)
    return totals


def layer_rows(info: ModelInfo) -> list[dict[str, Any]]:
    """Each op in execution order: what it outputs, the bytes of the constant tensors it reads (weights,
    biases; a tensor several ops share counts for each) and its MACs: where the bytes and the compute are."""
    return [{"index": op.index, "op": op.name, "output": info.tensors[op.outputs[0]].name.split(";")[0] if op.outputs else "",
             "output_shape": list(info.tensors[op.outputs[0]].shape) if op.outputs else [],
             "weight_bytes": sum(info.tensors[i].data_bytes for i in op.inputs if i >= 0 and info.tensors[i].is_constant),
             "macs": _op_macs(info, op)} for op in info.ops]


def _op_macs(info: ModelInfo, op) -> int:
    if op.name not in _MAC_OPS or len(op.inputs) < 2:
        return 0
    outputs = math.prod(info.tensors[op.outputs[0]].shape)
    weight_shape = info.tensors[op.inputs[1]].shape  # [out, kh, kw, in], [1, kh, kw, out] or [out, in]
    per_output = weight_shape[1:3] if op.name == "DEPTHWISE_CONV_2D" else weight_shape[1:]
    return outputs * math.prod(per_output)


def _tensor_dict(tensor) -> dict[str, Any]:
    return {"name": tensor.name, "shape": list(tensor.shape), "dtype": tensor.dtype,
            "quantization": tensor.quantization}
