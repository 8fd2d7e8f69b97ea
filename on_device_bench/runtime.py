"""Picks the one interpreter package this machine has, best first, and says which it is."""

from __future__ import annotations

import importlib
from typing import Any, Callable, NamedTuple

from .errors import BenchError, first_line

try:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as distribution_version
except ImportError:  # Python < 3.8 on old boards has no importlib.metadata.
    PackageNotFoundError = Exception  # type: ignore[misc,assignment]
    distribution_version = None  # type: ignore[assignment]


class Runtime(NamedTuple):
    name: str
    version: str
    interpreter_class: Callable[..., Any]


# (distribution name, module, attribute holding the Interpreter class). LiteRT first: it has
# XNNPACK int8 kernels that tflite-runtime 2.14 lacks (30x apart on x86, see NOTES.md).
_CANDIDATES = (
    ("ai-edge-litert", "ai_edge_litert.interpreter", "Interpreter"),
    ("tflite-runtime", "tflite_runtime.interpreter", "Interpreter"),
    ("tensorflow", "tensorflow", "lite.Interpreter"),
)


def load_runtime() -> Runtime:
    reasons = []
    for distribution, module_name, attribute in _CANDIDATES:
        try:
            module = importlib.import_module(module_name)
        # Not only ImportError: tflite-runtime 2.14 under NumPy 2 fails with AttributeError.
        except Exception as error:  # noqa: BLE001
            reasons.append(f"{module_name}: {first_line(error)}")
            continue
        interpreter_class = module
        for part in attribute.split("."):
            interpreter_class = getattr(interpreter_class, part)
        return Runtime(distribution, _version_of(distribution, module), interpreter_class)
    raise BenchError("no TFLite interpreter imports (" + "; ".join(reasons) + ")")


def _version_of(distribution: str, module: Any) -> str:
    if distribution_version is not None:
        try:
            return distribution_version(distribution)
        except PackageNotFoundError:
            pass
    root = importlib.import_module(module.__name__.split(".")[0])
    return str(getattr(root, "__version__", "unknown"))

