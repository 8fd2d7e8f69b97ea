"""Transports keyed by the scheme of a device string (`ssh://…`, `adb:…`), and the one error they raise."""

from __future__ import annotations

from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple

DEFAULT_BENCHMARK_MODEL = "/data/local/tmp/benchmark_model"


class TransportError(Exception):
    """Reaching the device or running the benchmark there failed; the message is one line."""


class DeviceBenchOptions(NamedTuple):
    threads: int = 1
    runs: int = 50
    warmup: int = 3
    min_seconds: float = 1.0
    timeout_s: float = 300.0
    python: Optional[str] = None
    benchmark_model_path: str = DEFAULT_BENCHMARK_MODEL
    ssh_config: Optional[str] = None


Transport = Callable[[str, str, DeviceBenchOptions], Dict[str, Any]]

_TRANSPORTS: Dict[str, Tuple[str, Transport]] = {}


def register_transport(scheme: str, usage: str) -> Callable[[Transport], Transport]:
    """Registers a transport for devices written `scheme:…`; `usage` shows the form in errors."""

    def register(transport: Transport) -> Transport:
        _TRANSPORTS[scheme] = (usage, transport)
        return transport

    return register


def transport_for(device: str) -> Tuple[str, Transport]:
    """The scheme and transport that reach `device`, or TransportError listing the known forms."""
    scheme = device.split(":", 1)[0] if ":" in device else ""
    if scheme not in _TRANSPORTS:
        known = ", ".join(usage for usage, _ in sorted(_TRANSPORTS.values()))
        raise TransportError(f"unknown device {device!r}: expected one of {known}")
    return scheme, _TRANSPORTS[scheme][1]
