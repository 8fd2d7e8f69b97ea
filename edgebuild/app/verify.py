"""`edgebuild verify` as an API: the release gate on any .tflite, measured afresh, as a typed report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebuild.base.errors import BadInput
from edgebuild.base.tfenv import tool_versions
from edgebuild.config.profile import load_profile
from edgebuild.converters.artifact import layer_rows, read_artifact
from edgebuild.toolchain.sources import open_source
from edgebuild.verify.baseline import load_baseline
from edgebuild.verify.child_run import DEFAULT_MIN_SECONDS, DEFAULT_RUNS, DEFAULT_TIMEOUT_S
from edgebuild.verify.checks import verdict
from edgebuild.verify.device import DeviceRun, device_checks, device_run_for
from edgebuild.verify.gate import AccuracyLimits, npu_section, verify_model
from edgebuild.verify.latency_prediction import superseded_by_device
from edgebuild.verify.micro_runtime import micro_section
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
    data = labelled_data(model, data_source) if data_source else None
    verification = verify_model(model, profile, data=data, limits=AccuracyLimits(min_top1=min_accuracy),
                                runs=timing.runs, min_seconds=timing.min_seconds, timeout_s=timing.timeout_s,
                                threads=timing.threads, baseline=earlier)
    run = device_run_for(profile, device_run)
    device_results, device = device_checks(model, profile, run) if run is not None else ([], None)
    checks = superseded_by_device(list(verification.checks), device_results)
    accuracy = None
    if verification.accuracy:
        accuracy = Accuracy(artifact=verification.accuracy["top1"], samples=verification.accuracy["samples"],
                            measured_on=f"{data_source}: {verification.accuracy['samples']} samples in the interpreter")
    return Report(kind="verify", title=f"{model.name} on {profile.name}", model=model.name, profile=profile.name,
                  passed=verdict(checks), checks=checks,
                  artifact=verification.artifact.as_dict(), latency_ms=verification.latency_ms,
                  memory=verification.memory, accuracy=accuracy, baseline=verification.baseline, device=device,
                  layers=layer_rows(verification.artifact.info),
                  predicted_latency=verification.predicted_latency,
                  npu=npu_section(verification.compiled, None) if verification.compiled else None,
                  micro_runtime=micro_section(verification.micro) if verification.micro else None,
                  versions=tool_versions())


def labelled_data(model: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    """`--data` stretched to the model's input height and width."""
    from edgebuild.toolchain.images import InputShape

    opened = open_source(source, flag="--data")  # a missing source is refused before the model is read
    info = read_artifact(model).info
    inputs, outputs = info.inputs, info.outputs
    if len(inputs) != 1 or len(inputs[0].shape) != 4 or len(outputs) != 1 or len(outputs[0].shape) != 2:
        raise BadInput(f"{model}: --data needs a single-input image classifier (NHWC in, one score per class out), "
                       f"got inputs {[list(t.shape) for t in inputs]} and outputs {[list(t.shape) for t in outputs]}")
    raw = opened.read(InputShape(tuple(inputs[0].shape[1:3])))
    _check_fits(model, raw, channels=inputs[0].shape[3], classes=outputs[0].shape[1])
    return raw.images, raw.labels


def _check_fits(model: Path, raw, *, channels: int, classes: int) -> None:
    """Data the model cannot take is the user's mistake (exit 2, as `convert` says), not a broken model."""
    data_channels = raw.images.shape[3]  # RawData is NHWC
    data_classes = int(raw.labels.max()) + 1
    if data_channels != channels or data_classes > classes:
        raise BadInput(f"--data: {raw.images.shape[1]}x{raw.images.shape[2]} images with {data_channels} channel(s) "
                       f"and {data_classes} classes; {model} takes {channels} channel(s) and scores {classes} classes")
