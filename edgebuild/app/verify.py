"""`edgebuild verify` as an API: the release gate on any .tflite, measured afresh, as a typed report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebuild.base.errors import BadInput
from edgebuild.base.tfenv import tool_versions
from edgebuild.config.profile import load_profile
from edgebuild.converters.artifact import read_artifact
from edgebuild.toolchain.sources import open_source
from edgebuild.verify.baseline import load_baseline
from edgebuild.verify.child_run import DEFAULT_MIN_SECONDS, DEFAULT_RUNS, DEFAULT_TIMEOUT_S
from edgebuild.verify.checks import verdict
from edgebuild.verify.device import DeviceRun, device_checks, device_run_for
from edgebuild.verify.gate import AccuracyLimits, verify_model
from edgebuild.verify.report import Accuracy, Report


@dataclass(frozen=True)
class Timing:
    runs: int = DEFAULT_RUNS
    min_seconds: float = DEFAULT_MIN_SECONDS
    timeout_s: float = DEFAULT_TIMEOUT_S
    threads: int | None = None  # default: the profile's latency.threads


def verify_file(model: Path, profile_ref: str, *, data_source: str | None = None, min_accuracy: float = 0.0,
                timing: Timing = Timing(), baseline: Path | None = None,
                device_run: DeviceRun | None = None) -> Report:
    """Every check of `model` against the profile; an unusable model, profile, data or baseline raises
    BadInput before anything runs."""
    profile, _ = load_profile(profile_ref)
    earlier = load_baseline(baseline) if baseline else None
    data = _labelled_data(model, data_source) if data_source else None
    verification = verify_model(model, profile, data=data, limits=AccuracyLimits(min_top1=min_accuracy),
                                runs=timing.runs, min_seconds=timing.min_seconds, timeout_s=timing.timeout_s,
                                threads=timing.threads, baseline=earlier)
    run = device_run_for(profile, device_run)
    device_results, device = device_checks(model, profile, run) if run is not None else ([], None)
    checks = [*verification.checks, *device_results]
    accuracy = None
    if verification.accuracy:
        accuracy = Accuracy(artifact=verification.accuracy["top1"], samples=verification.accuracy["samples"],
                            measured_on=f"{data_source}: {verification.accuracy['samples']} samples in the interpreter")
    return Report(kind="verify", title=f"{model.name} on {profile.name}", model=model.name, profile=profile.name,
                  passed=verdict(checks), checks=checks,
                  artifact=verification.artifact.as_dict(), latency_ms=verification.latency_ms,
                  memory=verification.memory, accuracy=accuracy, baseline=verification.baseline, device=device,
                  versions=tool_versions())


def _labelled_data(model: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    """`--data` stretched to the model's input height and width."""
    from edgebuild.toolchain.images import InputShape

    opened = open_source(source, flag="--data")  # a missing source is refused before the model is read
    inputs = read_artifact(model).info.inputs
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise BadInput(f"{model}: --data needs a single-input image classifier (NHWC), got inputs "
                       f"{[list(t.shape) for t in inputs]}")
    raw = opened.read(InputShape(tuple(inputs[0].shape[1:3])))
    return raw.images, raw.labels
