"""Activation memory of a .tflite, estimated the way LiteRT's arena planner lays tensors out."""

from __future__ import annotations

from edgebuild.converters.flatbuffer import ModelInfo

_ARENA_ALIGNMENT_BYTES = 64  # LiteRT's arena planner aligns every tensor to 64 bytes


def arena_estimate_bytes(info: ModelInfo) -> int:
    """Peak activation memory as LiteRT's arena planner would need it, before packing.

    Each non-constant tensor is live from the op that produces it (graph inputs: from the start)
    to the last op that reads it (graph outputs: to the end); sizes are 64-byte aligned. A
    tensor read but never produced (a variable, a state) is live throughout.
    """
    step_count = max(len(info.ops), 1)  # a model without ops still holds its inputs and outputs
    first_step: dict[int, int] = {t.index: 0 for t in info.inputs}
    last_step: dict[int, int] = {t.index: step_count - 1 for t in info.outputs}
    for step, op in enumerate(info.ops):
        for index in op.outputs:
            first_step.setdefault(index, step)
        for index in (*op.inputs, *op.outputs):
            last_step[index] = max(last_step.get(index, step), step)
    size_delta = [0] * (step_count + 1)
    for index, last in last_step.items():
        if index < 0 or info.tensors[index].is_constant:
            continue
        if index not in first_step:  # read but never written: a variable or state, live throughout
            last = step_count - 1
        aligned_bytes = _round_up(info.tensors[index].nbytes, _ARENA_ALIGNMENT_BYTES)
        size_delta[first_step.get(index, 0)] += aligned_bytes
        size_delta[last + 1] -= aligned_bytes
    live_bytes, peak_bytes = 0, 0
    for delta in size_delta[:step_count]:
        live_bytes += delta
        peak_bytes = max(peak_bytes, live_bytes)
    return peak_bytes


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
