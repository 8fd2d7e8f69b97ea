"""Cut one output's graph out of a multi-output .tflite: the model a one-output conversion makes.

`edgebuild fit` converts every candidate of a ladder at once, because a conversion's cost is mostly
fixed (~1.5 s on 2 cores whatever the model's size, measured). A candidate's artifact is then the
ops its output depends on, with only the tensors, buffers and op codes those use, kept in the
converter's order so the packed file matches what converting that candidate alone gives.
"""

from __future__ import annotations

from ai_edge_litert import schema_py_generated as schema

from edgebuild.converters.flatbuffer import pack_model, unpack_model


def standalone_model(model_bytes: bytes, output_name: str, renamed_output: str) -> bytes:
    """The model computing only signature output `output_name`, which it exports as `renamed_output`."""
    model = unpack_model(model_bytes, source="combined candidates")
    signature = model.signatureDefs[0]
    output = next(tensor_map for tensor_map in signature.outputs if tensor_map.name == output_name.encode())
    subgraph = model.subgraphs[0]
    operators = _operators_computing(subgraph, output.tensorIndex)
    used = sorted({*subgraph.inputs, output.tensorIndex,
                   *(i for op in operators for i in (*op.inputs, *op.outputs) if i >= 0)})
    tensor_index = {old: new for new, old in enumerate(used)}
    # Buffer 0 is the empty buffer every tensor without data may share.
    buffer_index = _renumbering({0, *(subgraph.tensors[i].buffer for i in used),
                                 *(entry.buffer for entry in model.metadata or [])})
    code_index = _renumbering({op.opcodeIndex for op in operators})

    for old in used:
        subgraph.tensors[old].buffer = buffer_index[subgraph.tensors[old].buffer]
    for op in operators:
        op.inputs = [tensor_index[i] if i >= 0 else i for i in op.inputs]
        op.outputs = [tensor_index[i] for i in op.outputs]
        op.opcodeIndex = code_index[op.opcodeIndex]
    subgraph.tensors = [subgraph.tensors[old] for old in used]
    subgraph.operators = operators
    subgraph.inputs = [tensor_index[i] for i in subgraph.inputs]
    subgraph.outputs = [tensor_index[output.tensorIndex]]
    model.buffers = [model.buffers[old] for old in sorted(buffer_index)]
    model.operatorCodes = [model.operatorCodes[old] for old in sorted(code_index)]
    for entry in model.metadata or []:
        entry.buffer = buffer_index[entry.buffer]
    for tensor_map in signature.inputs:
        tensor_map.tensorIndex = tensor_index[tensor_map.tensorIndex]
    output.tensorIndex, output.name = tensor_index[output.tensorIndex], renamed_output.encode()
    signature.outputs = [output]
    model.signatureDefs = [signature]
    return pack_model(model)


def _operators_computing(subgraph: schema.SubGraphT, tensor: int) -> list[schema.OperatorT]:
    """The ops `tensor` depends on, in execution order."""
    producer = {out: op for op in subgraph.operators for out in op.outputs}
    needed, pending, seen = set(), [tensor], set()
    while pending:
        index = pending.pop()
        if index < 0 or index in seen:
            continue
        seen.add(index)
        op = producer.get(index)
        if op is not None:
            needed.add(id(op))
            pending.extend(op.inputs)
    return [op for op in subgraph.operators if id(op) in needed]


def _renumbering(old_indices: set[int]) -> dict[int, int]:
    return {old: new for new, old in enumerate(sorted(old_indices))}
