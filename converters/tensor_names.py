"""Short tensor names for a published file (`convert.tensor_names: short`).

The converter names each tensor after the TensorFlow ops fused into it, each with the Keras model's
name first (`efficientnet_lite/quant_block0_0_relu/Relu6;efficientnet_lite/quant_block0_0_bn/
FusedBatchNormV3;efficientnet_lite/quant_block0_0_dw/depthwise`): 8 KB of the 162 KB fashion file.
The short name is the layer of the first op, without TF-MOT's `quant_` prefix (`block0_0_relu`):
what a profiler or Netron needs to point at a layer (the op type is the operator's own). No runtime
reads names beyond the inputs and outputs, which keep theirs; ops, weights and outputs are unchanged.
"""

from __future__ import annotations

from edgebuild.converters.flatbuffer import pack_model, unpack_model

_TF_MOT_PREFIX = "quant_"


def short_name(name: str) -> str:
    """`model/quant_layer/op...;...` → `layer`; a name without a model scope (a constant) as it is."""
    first_op = name.split(";", 1)[0]
    parts = first_op.split("/")
    return parts[1].removeprefix(_TF_MOT_PREFIX) if len(parts) > 2 else first_op


def published_names(model_bytes: bytes, tensor_names: str) -> bytes:
    """The converted model with the names `convert.tensor_names` asks the published file to carry."""
    return with_short_names(model_bytes) if tensor_names == "short" else model_bytes


def with_short_names(model_bytes: bytes) -> bytes:
    """The model with every tensor but the inputs and outputs renamed by `short_name`, each name unique
    within its subgraph (a repeat gets `_<tensor index>`)."""
    model = unpack_model(model_bytes)
    for subgraph in model.subgraphs or []:
        kept = {int(index) for index in [*subgraph.inputs, *subgraph.outputs]}
        used = {subgraph.tensors[index].name.decode() for index in kept}
        for index, tensor in enumerate(subgraph.tensors):
            if index in kept:
                continue
            name = short_name(tensor.name.decode())
            if name in used:
                name = f"{name}_{index}"
            used.add(name)
            tensor.name = name.encode()
    return pack_model(model)
