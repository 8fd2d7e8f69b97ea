"""Device checks: the artifact timed on the real board or phone, against the profile's latency targets.

Host latency is a proxy; these checks are labelled `device_` and sit beside the host ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebuild.config.profile import DeviceProfile
from edgebuild.on_device_bench.transports.registry import DeviceBenchOptions
from edgebuild.verify.checks import Check, at_most
from edgebuild.verify.report import Device


@dataclass(frozen=True)
class DeviceRun:
    """Where the device is (`ssh://user@host[:port]` or `adb:SERIAL`) and how to run there; the
    threads are the profile's."""

    device: str
    options: DeviceBenchOptions = DeviceBenchOptions()


def device_run_for(profile: DeviceProfile, run: DeviceRun | None) -> DeviceRun | None:
    """The run asked for (`--device`), else the profile's own `device:`, else none."""
    return run or (DeviceRun(profile.device) if profile.device else None)


def device_checks(model_path: Path, profile: DeviceProfile, run: DeviceRun) -> tuple[list[Check], Device]:
    """A transport failure (wrong host, refused key, timeout) is a failed check, not a crash."""
    from edgebuild.on_device_bench.transports import TransportError, bench_on_device

    options = run.options._replace(threads=profile.latency.threads)
    try:
        measured = bench_on_device(run.device, str(model_path), options)
    except TransportError as error:
        return ([Check("device_run", False, True, False, f"{run.device}: {error}", "device")],
                Device(device=run.device, where="device"))
    checks = [Check("device_run", True, True, True, basis="device")]
    latency, tool = measured["latency_ms"], measured["runtime"]["name"]
    for percentile, target in (("p50", profile.latency.p50_ms), ("p95", profile.latency.p95_ms)):
        name = f"device_latency_{percentile}_ms"
        value = latency.get(percentile)
        if value is None:
            checks.append(Check(name, None, target, False, f"not measured: {tool} printed no {percentile} "
                                                           "(a newer benchmark_model prints percentiles)", "device"))
        else:
            checks.append(at_most(name, round(value, 4), target, " ms", "device"))
    section = Device(device=measured["device"], where="device", transport=measured["transport"],
                     runtime=measured["runtime"], latency_ms=latency, memory=measured.get("memory"),
                     not_measured=measured.get("not_measured", []))
    return checks, section
