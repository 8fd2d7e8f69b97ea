"""The end of every build and convert: stamp metadata, verify, assemble the typed report, publish.

OUT/<name>/<profile>/ receives report.json, report.md, report.html and model.tflite (and, for an
Ethos-U profile, model_vela.tflite, Vela's compile of it: the file that ships to the board), staged in
a scratch folder beside it and renamed in (reports first, the artifact last), so a reader never sees
half a build. An artifact the gate rejects is published as model.failed.tflite beside its reports
(passed: false), so nothing that failed ever sits under the name a deployment picks up.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.cache import cache_key, file_sha256
from edgebuild.base.errors import BadInput, writing
from edgebuild.base.stage import StageRun, Upstream
from edgebuild.config.targets import Target
from edgebuild.app.fit import predicted_vs_measured
from edgebuild.app.pipeline import float_reference
from edgebuild.converters.artifact import layer_rows
from edgebuild.converters.metadata import provenance, with_metadata
from edgebuild.converters.tensor_names import published_names
from edgebuild.toolchain.context import BuildContext
from edgebuild.toolchain.training_stage import TrainedModel
from edgebuild.verify.checks import verdict
from edgebuild.verify.device import DeviceRun, device_checks, device_run_for
from edgebuild.verify.gate import AccuracyLimits, Verification, npu_section, verify_model
from edgebuild.verify.latency_prediction import superseded_by_device
from edgebuild.verify.micro_runtime import micro_section
from edgebuild.verify.measure import MEASURED_OF
from edgebuild.verify.report import Accuracy, Fit, Measurement, PrecisionSearch, Report, StageRow
from edgebuild.verify.report_html import to_html
from edgebuild.verify.report_md import to_markdown

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
ARTIFACT = "model.tflite"
COMPILED = "model_vela.tflite"
FAILED_ARTIFACT = "model.failed.tflite"


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    out_dir: Path
    report: Report

    @property
    def passed(self) -> bool:
        return self.report.passed


def check_writable_folders(out_root: Path, cache_root: Path) -> None:
    """Refused before any work (exit 2): a build that trains for minutes and then cannot write wastes the run."""
    for folder, what in ((out_root, "--out"), (cache_root, "stage cache")):
        absolute = folder.absolute()
        existing = next(path for path in (absolute, *absolute.parents) if path.exists())
        if not existing.is_dir():
            raise BadInput(f"{what} {folder}: {existing} is not a folder")
        if not os.access(existing, os.W_OK):  # also false on a read-only file system, even for root
            raise BadInput(f"{what} {folder}: {existing} is not writable")


def publish_target(ctx: BuildContext, target: Target, upstream: Upstream, out_root: Path,
                   device_run: DeviceRun | None = None, *, precision_search: PrecisionSearch | None = None,
                   search_record: dict[str, Any] | None = None) -> ProfileResult:
    """Verify the target's converted model with its metadata and publish OUT/<name>/<profile>/;
    a precision search's rungs go in the report, the shipped rung's record in the metadata."""
    out_dir = out_root / ctx.name / target.name
    dataset = upstream.output("data")
    inputs = {**ctx.inputs, "data_sha256": dataset.sha256, "profile_sha256": file_sha256(target.profile_path)}
    converted = published_names(upstream.output("convert").model_bytes, ctx.convert.tensor_names)
    artifact = with_metadata(converted, dataset.class_names, dataset.input_shape,
                             dataset.normalization.as_dict(),
                             {**provenance(ctx.source_kind, ctx.name, target, ctx.seed, inputs, ctx.versions),
                              **({"precision_search": search_record} if search_record else {})})
    events = ctx.events.tagged(profile=target.name)
    with _staging_beside(out_dir) as staging, writing(out_dir):
        staged = staging / ARTIFACT
        staged.write_bytes(artifact)
        events.emit("stage_started", stage="verify")
        started = time.perf_counter()
        float_metrics = upstream.output(float_reference(upstream)).metrics
        limits = AccuracyLimits(ctx.verify.min_accuracy, float_metrics["accuracy"], ctx.verify.max_drop_from_float)
        measurement = upstream.runs["measure"]
        verification = verify_model(staged, target.profile, data=(dataset.x_test, dataset.y_test), limits=limits,
                                    measured_run=measurement.output.run,
                                    compiled=upstream.output("vela") if "vela" in upstream else None)
        run = device_run_for(target.profile, device_run)
        device = device_checks(staged, target.profile, run) if run is not None else None
        seconds = time.perf_counter() - started
        judged = _verdict(verification, device[0] if device else [])
        published = out_dir / (ARTIFACT if judged["passed"] else FAILED_ARTIFACT)
        report = Report(
            kind="build" if ctx.source_kind == "recipe" else "convert",
            title=f"{ctx.name} for {target.name}", **{ctx.source_kind: ctx.name}, profile=target.name,
            precision=target.precision, io_dtype=target.io_dtype,
            **judged, artifact={
                **verification.artifact.as_dict(), "path": str(published)},
            latency_ms=verification.latency_ms, memory=verification.memory,
            accuracy=_accuracy(ctx, verification, measurement.output.accuracy_all_data, float_metrics, dataset),
            measurement=Measurement(key=measurement.key, reused=measurement.cached, of=MEASURED_OF),
            stages=[*_stage_rows(upstream), _verify_row(seconds, verification, measurement)],
            fit=_fit_section(upstream, verification), layers=layer_rows(verification.artifact.info),
            device=device[1] if device else None,
            predicted_latency=verification.predicted_latency,
            npu=npu_section(verification.compiled, out_dir / COMPILED) if verification.compiled else None,
            micro_runtime=micro_section(verification.micro) if verification.micro else None,
            precision_search=precision_search, normalization=dataset.normalization.as_dict(), versions=ctx.versions, inputs=inputs)
        events.emit("stage_finished", stage="verify", seconds=seconds, passed=report.passed,
                    measurement_reused=measurement.cached)
        if verification.compiled:
            (staging / COMPILED).write_bytes(verification.compiled.model_bytes)
        _publish(staging, out_dir, report)
    return ProfileResult(target.name, out_dir, report)


def _verdict(verification: Verification, device_checks_: list) -> dict[str, Any]:
    checks = superseded_by_device(list(verification.checks), device_checks_)
    return {"passed": verdict(checks), "checks": checks}


def _accuracy(ctx: BuildContext, verification: Verification, artifact_all_data: float | None,
              float_metrics: dict[str, Any], dataset) -> Accuracy:
    label = "float_student" if ctx.source_kind == "recipe" else "float_model"
    return Accuracy(**{label: float_metrics["accuracy"], f"{label}_all_data": float_metrics["accuracy_all_data"]},
                    artifact=verification.accuracy["top1"] if verification.accuracy else None,
                    artifact_all_data=artifact_all_data, samples=len(dataset.y_test),
                    measured_on=f"held-out test split ({len(dataset.y_test)} samples) in the interpreter; "
                                f"*_all_data on all {len(dataset.y_all)} samples")


def _stage_rows(upstream: Upstream) -> list[StageRow]:
    rows = []
    for run in upstream.runs.values():
        facts: dict[str, Any] = {}
        if isinstance(run.output, TrainedModel):
            metrics = run.output.metrics
            facts = {name: metrics.get(name) for name in ("accuracy", "parameters", "size_bytes", "gzip_bytes")}
            facts["sparsity"] = round(metrics["sparsity"], 4) if "sparsity" in metrics else None
        elif run.name == "convert":
            facts = {"size_bytes": len(run.output.model_bytes), "sparsity": round(run.output.weight_sparsity, 4)}
        rows.append(StageRow(name=run.name, seconds=round(run.seconds, 3), cached=run.cached, key=run.key,
                             input_hashes=_input_hashes(run.inputs), **facts))
    return rows


def _verify_row(seconds: float, verification: Verification, measurement: StageRun) -> StageRow:
    return StageRow(name="verify", seconds=round(seconds, 3), cached=False, measurement_reused=measurement.cached,
                    accuracy=verification.accuracy["top1"] if verification.accuracy else None,
                    parameters=verification.artifact.info.parameter_count)


def _input_hashes(inputs: dict[str, Any]) -> dict[str, str]:
    """Provenance: a short hash of each input the stage's cache key covers."""
    return {name: cache_key({"value": value})[:16] for name, value in sorted(inputs.items())}


def _fit_section(upstream: Upstream, verification: Verification) -> Fit | None:
    if "fit" not in upstream:
        return None
    fit = upstream.output("fit")
    measured = {"artifact": verification.artifact.as_dict(), "memory": verification.memory,
                "latency_ms": verification.latency_ms}
    return Fit(**fit.as_dict(), predicted_vs_measured=predicted_vs_measured(fit.predicted, measured))


@contextmanager
def _staging_beside(out_dir: Path) -> Iterator[Path]:
    """A scratch folder beside OUT/<name>/<profile>/, always removed; when the block fails (Ctrl-C, a full
    disk), so are the output folders it had to create, if still empty."""
    created = [folder for folder in (out_dir.parent, *out_dir.parent.parents) if not folder.exists()]
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:  # deepest first
            with suppress(OSError):
                folder.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out_dir: Path, report: Report) -> None:
    """Staged beside the output, then renamed in: reports first, the artifacts last, the model under the
    name its verdict gives it; an earlier build's model under the other name is removed, as it no longer
    matches."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (staging / REPORT_JSON).write_bytes(report.to_json())
    (staging / REPORT_MD).write_text(to_markdown(report))
    (staging / REPORT_HTML).write_text(to_html(report.model_dump(mode="json")))
    artifact, stale = (ARTIFACT, FAILED_ARTIFACT) if report.passed else (FAILED_ARTIFACT, ARTIFACT)
    os.replace(staging / ARTIFACT, staging / artifact)
    (out_dir / stale).unlink(missing_ok=True)
    for name in (REPORT_JSON, REPORT_MD, REPORT_HTML, COMPILED, artifact):
        if (staging / name).exists():
            os.replace(staging / name, out_dir / name)
