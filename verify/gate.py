"""Verify one .tflite against one profile: static checks, then a measured run in a child process."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.on_device_bench.local import RunnerFailed, run_isolated
from edgebuild.profile import DeviceProfile
from edgebuild.verify.checks import (Artifact, Check, at_least, latency_checks, memory_check, read_artifact,
                                     static_checks)


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

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]


def verify_model(path: Path, profile: DeviceProfile, *, data: tuple[np.ndarray, np.ndarray] | None = None,
                 limits: AccuracyLimits = AccuracyLimits(), runs: int = 50, min_seconds: float = 1.0,
                 timeout_s: float = 300.0) -> Verification:
    artifact = read_artifact(path)
    checks = static_checks(artifact, profile)
    measured, runtime_check = _measure(path, profile, data, runs, min_seconds, timeout_s)
    if runtime_check is not None:
        checks.append(runtime_check)
    memory, memory_details = memory_check(artifact, profile, measured and measured["memory"]["model_rss_bytes"])
    checks.append(memory)
    if measured is not None:
        checks.extend(latency_checks(measured["latency_ms"], profile))
        if measured.get("accuracy"):
            checks.extend(_accuracy_checks(measured["accuracy"]["top1"], limits))
    latency = {**measured["latency_ms"], "runs": measured["runs"], "threads": measured["threads"],
               "runtime": measured["runtime"], "where": "host"} if measured else None
    memory_details["measured"] = measured["memory"] if measured else None
    return Verification(artifact, tuple(checks), latency, memory_details,
                        measured.get("accuracy") if measured else None, measured["runtime"] if measured else None)


def _measure(path, profile, data, runs, min_seconds, timeout_s):
    """Run the model in a child process; a crash, hang or unresolved op is a failed check, not a crash."""
    with tempfile.TemporaryDirectory(prefix="edgebuild-verify-") as scratch:
        data_path = None
        if data is not None:
            data_path = Path(scratch) / "data.npz"
            np.savez(data_path, x=data[0].astype(np.float32), y=data[1].astype(np.int64))
        try:
            measured = run_isolated(path, runs=runs, min_seconds=min_seconds, threads=profile.latency.threads,
                                    data_path=data_path, timeout_s=timeout_s)
        except RunnerFailed as error:
            return None, Check("runs_in_runtime", False, True, False, str(error))
    return measured, Check("runs_in_runtime", True, True, True)


def _accuracy_checks(top1: float, limits: AccuracyLimits) -> list[Check]:
    checks = [at_least("accuracy_top1", round(top1, 4), limits.min_top1)]
    if limits.float_top1 is not None and limits.max_drop_from_float is not None:
        drop = round(limits.float_top1 - top1, 4)
        passed = drop <= limits.max_drop_from_float
        checks.append(Check("accuracy_drop_from_float", drop, limits.max_drop_from_float, passed,
                            "" if passed else f"the artifact lost {drop:.1%} top-1 against the float model "
                                              f"(limit {limits.max_drop_from_float:.1%})"))
    return checks
