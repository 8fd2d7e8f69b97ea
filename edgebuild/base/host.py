"""The machine verify measures on: host latency carries its name so it is never read as the device's."""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class HostInfo:
    cpu_model: str
    logical_cores: int
    available_memory_bytes: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> list[Any]:
        """What makes a timing taken here comparable: cache keys of measured results include it."""
        return [self.cpu_model, self.logical_cores]


def describe_host() -> HostInfo:
    return HostInfo(_cpu_model(), _usable_cores(), _available_memory_bytes())


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _usable_cores() -> int:
    # A container or taskset may allow fewer cores than the machine has; threads beyond them queue.
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _available_memory_bytes() -> int | None:
    """MemAvailable: what can be allocated without swapping; None where /proc/meminfo is absent."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
