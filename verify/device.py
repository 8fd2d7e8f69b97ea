"""Device checks: the artifact timed on the real board or phone, against the profile's latency targets.

Host latency is an estimate; these checks are labelled `device_` and sit beside the host ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.profile import DeviceProfile
from edgebuild.verify.checks import Check, at_most


@dataclass(frozen=True)
class DeviceRun:
    """Where and how to reach the device: `ssh://user@host[:port]` or `adb:SERIAL`."""

    device: str
    python: str | None = None  # the board's Python (ssh)
    ssh_config: str | None = None
    benchmark_model_path: str | None = None  # LiteRT's benchmark_model on the phone (adb)
    timeout_s: float = 300.0


def device_checks(model_path: Path, profile: DeviceProfile, run: DeviceRun) -> tuple[list[Check], dict | None]:
    """A transport failure (wrong host, refused key, timeout) is a failed check, not a crash."""
    from edgebuild.on_device_bench.transports import TransportError, bench_on_device

    options: dict[str, Any] = {"python": run.python, "ssh_config": run.ssh_config, "timeout_s": run.timeout_s}
    if run.benchmark_model_path:
        options["benchmark_model_path"] = run.benchmark_model_path
    try:
        measured = bench_on_device(run.device, str(model_path), threads=profile.latency.threads, **options)
    except TransportError as error:
        return [Check("device_run", False, True, False, f"{run.device}: {error}")], None
    checks = [Check("device_run", True, True, True)]
    latency, tool = measured["latency_ms"], measured["runtime"]["name"]
    for percentile, target in (("p50", profile.latency.p50_ms), ("p95", profile.latency.p95_ms)):
        name = f"device_latency_{percentile}_ms"
        value = latency.get(percentile)
        if value is None:
            checks.append(Check(name, None, target, False, f"not measured: {tool} printed no {percentile} "
                                                           "(a newer benchmark_model prints percentiles)"))
        else:
            checks.append(at_most(name, round(value, 4), target, " ms"))
    return checks, measured


def device_section(measured: dict) -> dict[str, Any]:
    return {"device": measured["device"], "transport": measured["transport"], "runtime": measured["runtime"],
            "latency_ms": measured["latency_ms"], "memory": measured.get("memory"),
            "not_measured": measured.get("not_measured", []), "where": "device"}


def add_device_checks(report: dict[str, Any], path: Path, profile: DeviceProfile, run: DeviceRun | None) -> None:
    """With `run` (or the profile's `device:`), time the artifact there and gate the report on it."""
    run = run or (DeviceRun(profile.device) if profile.device else None)
    if run is None:
        return
    checks, measured = device_checks(path, profile, run)
    report["checks"] += [check.as_dict() for check in checks]
    report["passed"] = all(check["passed"] for check in report["checks"])
    report["device"] = device_section(measured) if measured else {"device": run.device, "where": "device"}
