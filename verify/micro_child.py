"""The child side of the TFLite Micro run: `python -m edgebuild.verify.micro_child MODEL [--data X.npz]`.

Runs the model in TFLite Micro's Python runtime (the kernels a microcontroller build has) and in
LiteRT on the same inputs, and prints one JSON object: the arena TFLite Micro allocated (its
RecordingMicroAllocator's total, printed to the C-level stderr, so fd 2 is captured), top-1 on the
data, how far its outputs are from LiteRT's; or the error, with the op TFLite Micro lacks when it
names one. Run in a child with a time limit by verify/micro_runtime.py: a crafted model can crash
or hang a C++ runtime.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from edgebuild.on_device_bench.accuracy import load_labelled, model_inputs

# Far more than any microcontroller has: the arena is measured, never limited, here.
ARENA_SIZE = 64 * 1024 * 1024
_ARENA_TOTAL = re.compile(r"Arena allocation total (\d+) bytes")
_MISSING_OP = re.compile(r"Didn't find op for builtin opcode '(\w+)'|registration from op code (\w+)")


@contextmanager
def _stderr_captured(said: list[str]) -> Iterator[None]:
    """What C++ code writes to fd 2 inside the block, appended to `said`."""
    sys.stderr.flush()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            said.append(capture.read().decode("utf-8", errors="replace"))


def _inputs(reference: Any, data: str | None) -> tuple[list[list[np.ndarray]], np.ndarray | None]:
    """Per sample, one array per model input; the labels when there is data."""
    details = reference.get_input_details()
    if data is None:  # one synthetic sample: enough to allocate, invoke and compare
        random = np.random.default_rng(0)
        sample = []
        for detail in details:
            dtype = np.dtype(detail["dtype"])
            shape = tuple(int(dim) for dim in detail["shape"])
            sample.append(random.uniform(-1, 1, shape).astype(dtype) if dtype.kind == "f" else
                          random.integers(np.iinfo(dtype).min, np.iinfo(dtype).max + 1, shape).astype(dtype))
        return [sample], None
    x, y, divisor = load_labelled(data)
    return [[model_inputs(x[i:i + 1], divisor, details[0])] for i in range(len(x))], y


def run(model: str, data: str | None) -> dict[str, Any]:
    from ai_edge_litert.interpreter import Interpreter
    from tflite_micro import runtime

    reference = Interpreter(model_path=model)
    reference.allocate_tensors()
    samples, labels = _inputs(reference, data)
    said: list[str] = []
    try:
        with _stderr_captured(said):
            micro = runtime.Interpreter.from_file(model, arena_size=ARENA_SIZE)
    except RuntimeError as error:
        missing = _MISSING_OP.search(said[-1])
        return {"error": f"{error}: {said[-1].strip().splitlines()[0] if said[-1].strip() else 'no detail'}",
                "missing_op": next(group for group in missing.groups() if group) if missing else None}
    micro_top1, reference_top1, max_diff, arena = [], [], 0, None
    for index, sample in enumerate(samples):
        micro_out, reference_out = _invoke(micro, reference, sample)
        max_diff = max(max_diff, int(np.max(np.abs(micro_out.astype(np.int64) - reference_out.astype(np.int64))))
                       if micro_out.dtype.kind in "iu" else float(np.max(np.abs(micro_out - reference_out))))
        micro_top1.append(int(np.argmax(micro_out)))
        reference_top1.append(int(np.argmax(reference_out)))
        if index == 0:
            with _stderr_captured(said):
                micro.print_allocations()
            arena = int(_ARENA_TOTAL.search(said[-1])[1])
    report = {"arena_bytes": arena, "allocations": said[-1] if arena is not None else "",
              "samples": len(samples), "top1_disagreements": sum(m != r for m, r in zip(micro_top1, reference_top1)),
              "max_abs_output_diff": max_diff, "output_dtype": str(micro_out.dtype)}
    if labels is not None:
        report["top1"] = float(np.mean(np.array(micro_top1) == labels))
    return report


def _invoke(micro: Any, reference: Any, sample: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    for position, (array, detail) in enumerate(zip(sample, reference.get_input_details())):
        micro.set_input(array, position)
        reference.set_tensor(detail["index"], array)
    micro.invoke()
    reference.invoke()
    output = reference.get_output_details()[0]
    return np.asarray(micro.get_output(0)), reference.get_tensor(output["index"])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m edgebuild.verify.micro_child")
    parser.add_argument("model")
    parser.add_argument("--data")
    args = parser.parse_args()
    try:
        report = run(args.model, args.data)
    except Exception as error:  # noqa: BLE001 - any failure is reported, the parent decides
        report = {"error": f"{type(error).__name__}: {error}", "missing_op": None}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
