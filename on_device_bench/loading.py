"""Loads a .tflite into the runtime's interpreter, sizes dynamic inputs and allocates tensors."""

from __future__ import annotations

import re
import time
from typing import Any, Optional, Tuple

import numpy as np

from .errors import BenchError, first_line
from .runtime import Runtime

_UNRESOLVED_CUSTOM_OP = re.compile(r"unresolved custom op: (\S+?)\.?(?:\s|$)")


def load_model(runtime: Runtime, model_path: str, threads: int) -> Tuple[Any, float]:
    """The allocated interpreter and the milliseconds that loading and allocating took."""
    check_readable(model_path, "model")
    started = time.perf_counter()
    try:
        interpreter = runtime.interpreter_class(model_path=model_path, num_threads=threads)
    # The runtimes refuse empty, truncated and random files with ValueError, others with RuntimeError.
    except Exception as error:  # noqa: BLE001
        if _built_for_numpy_1(error):
            raise BenchError(
                f"the runtime {runtime.name} {runtime.version} was built for NumPy 1.x and cannot run "
                f"under NumPy {np.__version__}: install numpy<2 beside it"
            )
        raise BenchError("not a model the runtime can load: " + first_line(error), model_path)
    try:
        _resize_dynamic_inputs(interpreter)
        interpreter.allocate_tensors()
    except Exception as error:  # noqa: BLE001
        raise BenchError(_allocation_failure(error, runtime), model_path)
    return interpreter, (time.perf_counter() - started) * 1000.0


def check_readable(path: str, kind: str) -> None:
    try:
        with open(path, "rb") as opened:
            opened.read(1)
    except OSError as error:
        raise BenchError(f"cannot read the {kind}: {error.strerror or error}", path)


def _resize_dynamic_inputs(interpreter: Any) -> None:
    for detail in interpreter.get_input_details():
        signature = detail.get("shape_signature", detail["shape"])
        if any(int(dim) < 0 for dim in signature):
            resolved = [1 if int(dim) < 0 else int(dim) for dim in signature]
            interpreter.resize_tensor_input(detail["index"], resolved)


def _built_for_numpy_1(error: BaseException) -> bool:
    # tflite-runtime 2.14 imports under NumPy 2 (printing a warning) and fails only when it makes
    # its first interpreter: a SystemError caused by ImportError "numpy.core.multiarray failed to
    # import" (checked), which would otherwise read as a broken model.
    cause: Optional[BaseException] = error
    while cause is not None:
        if "multiarray failed to import" in str(cause) or "_ARRAY_API" in str(cause):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _allocation_failure(error: BaseException, runtime: Runtime) -> str:
    custom_op = _UNRESOLVED_CUSTOM_OP.search(str(error))
    if custom_op:
        return f"custom op {custom_op.group(1)} is not available in the runtime {runtime.name} {runtime.version}"
    return "allocate_tensors failed: " + first_line(error)
