"""Runs a benchmark on a device the host reaches over ssh or adb (host side, stdlib only)."""

from __future__ import annotations

import os
from typing import Any, Dict

from . import adb, ssh  # noqa: F401 - importing registers the transports
from .registry import DEFAULT_BENCHMARK_MODEL, DeviceBenchOptions, TransportError, transport_for

__all__ = ["DEFAULT_BENCHMARK_MODEL", "DeviceBenchOptions", "TransportError", "bench_on_device"]


def bench_on_device(device: str, model_path: str, options: DeviceBenchOptions = DeviceBenchOptions()) -> Dict[str, Any]:
    """The runner's report, measured on `device` (`ssh://user@host[:port]` or `adb:SERIAL`),
    plus "device" and "transport". Raises TransportError with a one-line reason."""
    scheme, transport = transport_for(device)
    if not os.path.isfile(model_path):
        raise TransportError(f"{model_path}: no such model file")
    report = transport(device, model_path, options)
    report["device"] = device
    report["transport"] = scheme
    return report
