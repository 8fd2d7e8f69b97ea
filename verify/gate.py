"""Verify one .tflite against one profile: static checks, then a measured run in a child process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.host import HostInfo, describe_host
from edgebuild.config.profile import DeviceProfile
from edgebuild.converters.artifact import Artifact, read_artifact
from edgebuild.converters.vela import Compiled, VelaFailed, compile_for_npu
from edgebuild.verify.baseline import Baseline, compare_with_baseline
from edgebuild.verify.checks import (Check, at_least, latency_checks, memory_check, not_run, npu_checks,
                                     static_checks, verdict)
from edgebuild.verify.edgetpu import edgetpu_checks
from edgebuild.verify.micro_runtime import MicroRun, memory_basis, micro_checks, run_in_micro
from edgebuild.verify.child_run import (DEFAULT_MIN_SECONDS, DEFAULT_RUNS, DEFAULT_TIMEOUT_S, ChildRun,
                                        run_model)
from edgebuild.verify.latency_prediction import predicted_latency

# A model estimated at more than this many times the profile's memory budget fails that check whatever
# a run measures; running it anyway would allocate what its shapes claim (gigabytes, for a damaged file).
RUN_CEILING_FACTOR = 16


@dataclass(frozen=True)
class AccuracyLimits:
    min_top1: float = 0.0
    float_top1: float | None = None
    max_drop_from_float: float | None = None


@dataclass(frozen=True)
class Verification:
    artifact: Artifact
    checks: tuple[Check, ...]
    latency_ms: dict[str, Any] | None
    memory: dict[str, Any]
    accuracy: dict[str, Any] | None
    runtime: dict[str, Any] | None
    baseline: dict[str, Any] | None = None
    predicted_latency: dict[str, Any] | None = None
    compiled: Compiled | None = None  # Vela's, for an Ethos-U profile
    micro: MicroRun | None = None  # TFLite Micro's, for a microcontroller profile

    @property
    def passed(self) -> bool:
        return verdict(self.checks)

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def verify_model(path: Path, profile: DeviceProfile, *, data: tuple[np.ndarray, np.ndarray] | None = None,
                 limits: AccuracyLimits = AccuracyLimits(), runs: int = DEFAULT_RUNS,
                 min_seconds: float = DEFAULT_MIN_SECONDS, timeout_s: float = DEFAULT_TIMEOUT_S,
                 threads: int | None = None,
                 baseline: Baseline | None = None, measured_run: ChildRun | None = None,
                 compiled: Compiled | None = None) -> Verification:
    """Every check of `path` against `profile`; `threads` defaults to the profile's latency threads.
    With `measured_run` (the build's cached measurement of this model), the model is not run again;
    with `compiled` (the build's cached Vela compile), an Ethos-U profile's model is not compiled again.

    An unusable file raises BadInput; a model that crashes, hangs or cannot run is a failed check.
    """
    artifact = read_artifact(path)
    host = describe_host()
    wanted_threads = threads or profile.latency.threads
    run = measured_run or _too_large_to_run(artifact, profile) or run_model(
        artifact, threads=timing_threads(wanted_threads, host), data=data, runs=runs, min_seconds=min_seconds,
        timeout_s=timeout_s, available_memory_bytes=host.available_memory_bytes)
    measured = run.report or {}  # empty when the model did not run: its checks are left out
    checks = [*static_checks(artifact, profile), *run.checks]
    micro = run_in_micro(artifact, data, timeout_s) if profile.micro_runtime is not None else None
    memory, memory_details = memory_check(artifact, profile, measured.get("memory", {}).get("model_rss_bytes"),
                                          memory_basis(micro, artifact, profile))
    memory_details["measured"] = measured.get("memory")
    checks.append(memory)
    latency = _host_latency(measured, host, profile, wanted_threads) if measured else None
    if measured and profile.latency.basis == "host":
        checks.extend(latency_checks(measured["latency_ms"], profile, note=_fewer_cores(wanted_threads, host)))
    prediction = None
    if profile.latency.basis == "predicted":  # the host time stays in `latency`, labelled host, unchecked
        predicted_checks, prediction = predicted_latency(artifact.info, artifact.precision, profile)
        checks.extend(predicted_checks)
    if measured.get("accuracy"):
        checks.extend(_accuracy_checks(measured["accuracy"]["top1"], limits))
    if profile.npu is not None:
        compiled, npu = _npu(artifact, profile, compiled)
        checks.extend(npu)
    if micro is not None:
        checks.extend(micro_checks(micro, artifact, profile, limits.min_top1))
    if profile.ops.delegate == "edgetpu":
        checks.extend(edgetpu_checks(artifact.path))
    baseline_section = None
    if baseline is not None:
        comparison = compare_with_baseline(baseline, artifact, latency, profile.tolerances, profile.name)
        checks.extend(comparison.checks)
        baseline_section = comparison.section
    return Verification(artifact, tuple(checks), latency, memory_details, measured.get("accuracy"),
                        measured.get("runtime"), baseline_section, prediction, compiled, micro)


def npu_section(compiled: Compiled, published_path: Path | None) -> dict[str, Any]:
    """The report's `npu` section: Vela's placement, estimates and per-layer table."""
    result = compiled.result
    return {"compiler": "vela", "basis": "vendor-estimate", **{name: getattr(result, name) for name in (
                "version", "accelerator_config", "system_config", "memory_mode", "inferences_per_second",
                "sram_bytes", "weight_memory", "weight_memory_bytes")},
            "inference_ms": round(result.inference_time_s * 1000, 6), "npu_ops": result.npu_op_count,
            "cpu_ops": len(result.cpu_layers), "layers": result.as_dict()["layers"],
            "compiled": {"path": str(published_path) if published_path else None,
                         "sha256": hashlib.sha256(compiled.model_bytes).hexdigest(),
                         "size_bytes": len(compiled.model_bytes)}}


def _npu(artifact: Artifact, profile: DeviceProfile,
         compiled: Compiled | None) -> tuple[Compiled | None, list[Check]]:
    """Vela's compile of the model (the build's, or compiled now) and the checks it decides."""
    if compiled is None:
        try:
            compiled = compile_for_npu(artifact.path.read_bytes(), profile.npu)
        except VelaFailed as failed:
            return None, [Check("npu_compile", False, True, False, str(failed), "vendor-estimate")]
    return compiled, npu_checks(compiled.result, profile)


def timing_threads(wanted: int, host: HostInfo) -> int:
    """The threads to time with: the profile's, or the host's cores when it has fewer (more would queue)."""
    return min(wanted, host.logical_cores)


def _fewer_cores(wanted: int, host: HostInfo) -> str:
    if wanted <= host.logical_cores:
        return ""
    return (f"the profile asks for {wanted} threads but this host has {host.logical_cores} cores: "
            f"timed with {host.logical_cores} threads")


def _too_large_to_run(artifact: Artifact, profile: DeviceProfile) -> ChildRun | None:
    """The run left out (reported as not run) when the memory estimate is far over the profile's budget."""
    estimate = memory_check(artifact, profile, None)[0].value
    ceiling = RUN_CEILING_FACTOR * profile.memory_budget_bytes
    if estimate <= ceiling:
        return None
    reason = (f"not run: it needs an estimated {estimate} B, over {RUN_CEILING_FACTOR}x the profile's memory budget "
              f"({ceiling} B), so it fails peak_memory_bytes whatever a run measures")
    return ChildRun(None, (not_run("runs_in_runtime", True, reason, "host"),))


def _host_latency(measured: dict[str, Any], host: HostInfo, profile: DeviceProfile,
                  wanted_threads: int) -> dict[str, Any]:
    fewer = _fewer_cores(wanted_threads, host)
    return {**measured["latency_ms"], "runs": measured["runs"], "warmup": measured["warmup"],
            "threads": measured["threads"], "runtime": measured["runtime"], "where": "host",
            "host": {"cpu_model": host.cpu_model, "logical_cores": host.logical_cores},
            "note": f"host latency, measured on this machine ({host.cpu_model}, {host.logical_cores} cores), "
                    f"not on the {profile.name} device" + (f"; {fewer}" if fewer else ""),
            "histogram": measured.get("latency_histogram")}


def _accuracy_checks(top1: float, limits: AccuracyLimits) -> list[Check]:
    checks = [at_least("accuracy_top1", round(top1, 4), limits.min_top1, basis="host")]
    if limits.float_top1 is not None and limits.max_drop_from_float is not None:
        drop = round(limits.float_top1 - top1, 4)
        passed = drop <= limits.max_drop_from_float
        checks.append(Check("accuracy_drop_from_float", drop, limits.max_drop_from_float, passed,
                            "" if passed else f"the artifact lost {drop:.1%} top-1 against the float model "
                                              f"(limit {limits.max_drop_from_float:.1%})", "host"))
    return checks
