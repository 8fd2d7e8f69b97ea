"""`edgebuild build` as an API: recipe × profiles → verified artifacts and reports.

The second half (convert, stamp metadata, verify, publish) is `publish_verified`, which
`edgebuild convert` shares for a model the user trained.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild import report as reports
from edgebuild.errors import BadInput, writing
from edgebuild.events import Events
from edgebuild.profile import DeviceProfile, load_profile, profile_names
from edgebuild.verify.device import add_device_checks
from edgebuild.recipe import Recipe, VerifyConfig, load_recipe
from edgebuild.toolchain.cache import file_sha256


@dataclass(frozen=True)
class Target:
    """One profile to build for, with the precision and I/O dtype chosen for it before any training."""

    profile: DeviceProfile
    profile_path: Path
    precision: str
    io_dtype: str


@dataclass(frozen=True)
class ProfileResult:
    profile: str
    out_dir: Path
    passed: bool
    report: dict[str, Any]


@dataclass(frozen=True)
class Release:
    """What every artifact made from one recipe (build) or one model file (convert) shares."""

    kind: str  # "recipe" or "model": the key that names the source in the report and the metadata
    name: str  # also the output folder: OUT/<name>/<profile>/
    dataset: Any
    seed: int
    representative_samples: int
    limits: VerifyConfig
    float_label: str  # the report's name for the float reference: "float_student" or "float_model"
    float_metrics: dict[str, Any]  # its "accuracy" and "accuracy_all_data" on the same splits
    upstream_stages: tuple[dict[str, Any], ...]  # rows for the stages before convert
    versions: dict[str, str]
    inputs: dict[str, Any]
    events: Events


def choose_target(recipe: Recipe, recipe_path: Path, profile: DeviceProfile, profile_path: Path) -> Target:
    """The recipe's most preferred precision the profile runs; refused (exit 2) before training."""
    target = _first_runnable(recipe.convert.precisions, profile, profile_path)
    if target is None:
        raise BadInput(f"{recipe_path}: convert.precisions {list(recipe.convert.precisions)}: profile {profile.name} "
                       f"runs only {list(profile.precisions)} with I/O {list(profile.io_dtypes)}")
    return target


def target_for_precision(profile: DeviceProfile, profile_path: Path, precision: str | None) -> Target:
    """`precision`, or the profile's own first choice; one the profile does not run is refused (exit 2)."""
    target = _first_runnable((precision,) if precision else profile.precisions, profile, profile_path)
    if target is None:
        raise BadInput(f"--precision {precision}: profile {profile.name} runs only {list(profile.precisions)} "
                       f"with I/O {list(profile.io_dtypes)}")
    return target


def _first_runnable(precisions, profile: DeviceProfile, profile_path: Path) -> Target | None:
    for precision in precisions:
        io_dtype = profile.io_dtype_for(precision) if precision in profile.precisions else None
        if io_dtype is not None:
            return Target(profile, profile_path, precision, io_dtype)
    return None


def load_targets(recipe_ref: str, profile_refs: list[str]) -> tuple[Recipe, Path, list[Target]]:
    """The recipe and every profile, validated before any work; `all` means every bundled profile."""
    recipe, recipe_path = load_recipe(recipe_ref)
    refs = [name for ref in profile_refs for name in (profile_names() if ref == "all" else [ref])]
    unique_refs = list(dict.fromkeys(refs))
    return recipe, recipe_path, [choose_target(recipe, recipe_path, *load_profile(ref)) for ref in unique_refs]


def check_writable_folders(out_root: Path, cache_root: Path) -> None:
    """Refused before any work (exit 2): a build that trains for minutes and then cannot write wastes the run."""
    for folder, what in ((out_root, "--out"), (cache_root, "stage cache")):
        absolute = folder.absolute()
        existing = next(path for path in (absolute, *absolute.parents) if path.exists())
        if not existing.is_dir():
            raise BadInput(f"{what} {folder}: {existing} is not a folder")
        if not os.access(existing, os.W_OK):  # also false on a read-only file system, even for root
            raise BadInput(f"{what} {folder}: {existing} is not writable")


def conversion_scope(recipe_name: str, profile_name: str) -> str:
    return f"{recipe_name}/convert/{profile_name}"


def build(recipe_ref: str, profile_refs: list[str], out_root: Path, *, seed: int | None = None,
          cache_root: Path | None = None, strategy: str | None = None, device_run=None,
          events: Events = Events()) -> list[ProfileResult]:
    """Validate everything first, train once, then convert and verify for each profile."""
    from edgebuild import tfenv
    from edgebuild.toolchain import distribute, pipeline
    from edgebuild.toolchain.cache import StageCache, default_cache_root
    from edgebuild.toolchain.data_cache import load_dataset_cached
    from edgebuild.toolchain.stage import StageContext

    recipe, recipe_path, targets = load_targets(recipe_ref, profile_refs)
    strategy_name = strategy or recipe.strategy
    # Before any TensorFlow op runs: splitting the CPU into logical devices must come first.
    tf_strategy = distribute.make_strategy(strategy_name) if strategy_name != "default" else None
    cache_root = distribute.worker_scratch(cache_root or default_cache_root())
    out_root = distribute.worker_scratch(out_root)
    check_writable_folders(out_root, cache_root)
    seed = recipe.seed if seed is None else seed
    data = recipe.data
    cache = StageCache(cache_root)
    versions = tfenv.tool_versions()
    # Bad data is refused before TensorFlow's import (seconds), which only a stage that runs pays for.
    dataset = load_dataset_cached(cache, data.source, data.input_size, validation_fraction=data.validation_fraction,
                                  test_fraction=data.test_fraction, seed=seed, base_dir=recipe_path.parent)
    fits = choose_students(recipe, recipe_path, targets, dataset.input_shape, dataset.num_classes, cache, versions,
                           events)
    inputs = {"recipe_sha256": file_sha256(recipe_path), "data_sha256": dataset.sha256, "seed": seed}
    trained_for: dict[str, Any] = {}
    results = []
    for target, fit in zip(targets, fits):
        student = fit.student if fit else recipe.student
        student_id = json.dumps(student.model_dump(mode="json"), sort_keys=True)
        if student_id not in trained_for:  # profiles that choose the same student share its training
            ctx = StageContext(recipe.model_copy(update={"student": student}), dataset, seed, events,
                               recipe_path.parent, strategy_name, tf_strategy)
            trained_for[student_id] = pipeline.run_training(ctx, cache, versions)
        trained = trained_for[student_id]
        float_stage = trained.outcome(pipeline.conversion_source("float32", list(trained.models)))
        release = Release("recipe", recipe.name, dataset, seed, recipe.convert.representative_samples,
                          recipe.verify, "float_student", float_stage.metrics, _training_rows(trained), versions,
                          inputs, events)
        results.append(publish_verified(release, target, _trained_source(trained, target), cache, out_root, fit,
                                        device_run))
    return results


def choose_students(recipe: Recipe, recipe_path: Path, targets: list[Target], input_shape, num_classes: int,
                    cache, versions: dict, events: Events = Events()) -> list:
    """A ladder's student per target (`edgebuild fit`, cached), or None per target for a one-student recipe."""
    from edgebuild.recipe import StudentLadder

    if not isinstance(recipe.student, StudentLadder):
        return [None] * len(targets)
    from edgebuild.toolchain.fit_cache import choose_students_cached

    events.emit("stage_started", stage="fit")
    started = time.perf_counter()
    fits = choose_students_cached(recipe, recipe_path, targets, input_shape, num_classes, cache, versions)
    cached = all(was_cached for _, was_cached in fits)
    events.emit("stage_cached" if cached else "stage_finished", stage="fit", seconds=time.perf_counter() - started,
                chosen=[result.chosen for result, _ in fits])
    return [result for result, _ in fits]


def _trained_source(trained, target: Target):
    from edgebuild.converters.export import ModelSource
    from edgebuild.toolchain.pipeline import conversion_source

    stage = conversion_source(target.precision, list(trained.models))
    return ModelSource(stage, trained.outcome(stage).key, trained.models[stage])


def publish_verified(release: Release, target: Target, source, cache, out_root: Path, fit=None,
                     device_run=None) -> ProfileResult:
    """Convert `source` for `target` (cached), stamp metadata, verify, and publish OUT/<name>/<profile>/.
    With `fit` (the student chosen for the profile) the report sets predictions beside measurements;
    with `device_run` (or the profile's `device`) the artifact is also timed on the device."""
    from edgebuild.converters.artifact import Calibration, convert_cached, with_metadata

    profile = target.profile
    out_dir = out_root / release.name / profile.name
    inputs = {**release.inputs, "profile_sha256": file_sha256(target.profile_path)}
    calibration = Calibration(release.dataset.x_train, release.representative_samples, release.seed)
    conversion = convert_cached(source, target.precision, target.io_dtype, calibration, cache, release.versions,
                                conversion_scope(release.name, profile.name), release.events)
    provenance = {release.kind: release.name, "profile": profile.name, "precision": target.precision,
                  "io_dtype": target.io_dtype, "seed": release.seed, "inputs": inputs, "versions": release.versions}
    artifact = with_metadata(conversion.model_bytes, release.dataset, provenance)
    with _staging_beside(out_dir) as staging, writing(out_dir):
        (staging / reports.ARTIFACT).write_bytes(artifact)
        report = _verify(staging / reports.ARTIFACT, release, target, conversion, inputs, cache)
        if fit is not None:
            report["fit"] = _fit_section(fit, report)
        add_device_checks(report, staging / reports.ARTIFACT, profile, device_run)
        _publish(staging, out_dir, report)
    return ProfileResult(profile.name, out_dir, report["passed"], report)


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


def _verify(path: Path, release: Release, target: Target, conversion, inputs, cache) -> dict[str, Any]:
    from edgebuild.verify.gate import AccuracyLimits, verify_model
    from edgebuild.verify.measurement import measure_cached

    release.events.emit("stage_started", stage="verify", profile=target.profile.name)
    started = time.perf_counter()
    data, float_metrics = release.dataset, release.float_metrics
    limits = AccuracyLimits(release.limits.min_accuracy, float_metrics["accuracy"], release.limits.max_drop_from_float)
    measurement = measure_cached(path, conversion.model_bytes, target.profile.latency.threads, data,
                                 cache, release.versions)
    verification = verify_model(path, target.profile, data=(data.x_test, data.y_test), limits=limits,
                                measured_run=measurement.run)
    seconds = time.perf_counter() - started
    release.events.emit("stage_finished", stage="verify", profile=target.profile.name, seconds=seconds,
                        passed=verification.passed, measurement_reused=measurement.reused)
    return {
        "title": f"{release.name} for {target.profile.name}",
        release.kind: release.name, "profile": target.profile.name,
        "precision": target.precision, "io_dtype": target.io_dtype,
        **reports.verification_sections(verification),
        "measurement": measurement.as_dict(),
        "accuracy": {
            release.float_label: float_metrics["accuracy"],
            "artifact": verification.accuracy["top1"] if verification.accuracy else None,
            f"{release.float_label}_all_data": float_metrics["accuracy_all_data"],
            "artifact_all_data": measurement.accuracy_all_data,
            "measured_on": f"held-out test split ({len(data.y_test)} samples) in the interpreter; "
                           f"*_all_data on all {len(data.y_all)} samples",
        },
        "stages": [*release.upstream_stages, *_artifact_rows(conversion, seconds, verification, measurement)],
        "normalization": data.normalization.as_dict(),
        "versions": release.versions,
        "inputs": inputs,
    }


def _fit_section(fit, report: dict[str, Any]) -> dict[str, Any]:
    from edgebuild.toolchain.fit import predicted_vs_measured

    return {**fit.as_dict(), "predicted_vs_measured": predicted_vs_measured(fit.predicted, report)}


def _training_rows(trained) -> tuple[dict[str, Any], ...]:
    return tuple({"name": o.name, "seconds": round(o.seconds, 3), "cached": o.cached, "key": o.key,
                  "accuracy": o.metrics["accuracy"], "parameters": o.metrics["parameters"],
                  "sparsity": round(o.metrics["sparsity"], 4), "size_bytes": o.metrics.get("size_bytes"),
                  "gzip_bytes": o.metrics.get("gzip_bytes"), "input_hashes": _input_hashes(o.inputs)}
                 for o in trained.outcomes)


def _input_hashes(inputs: dict[str, Any]) -> dict[str, str]:
    """Provenance: a short hash of each input the stage's cache key covers."""
    from edgebuild.toolchain.cache import cache_key

    return {name: cache_key({"value": value})[:16] for name, value in sorted(inputs.items())}


def _artifact_rows(conversion, verify_seconds: float, verification, measurement) -> list[dict[str, Any]]:
    return [{"name": "convert", "seconds": round(conversion.seconds, 3), "cached": conversion.cached,
             "key": conversion.key, "precision": conversion.precision,
             "size_bytes": verification.artifact.info.size_bytes,
             "sparsity": round(conversion.weight_sparsity, 4)},
            {"name": "verify", "seconds": round(verify_seconds, 3), "cached": False,
             "measurement_reused": measurement.reused,
             "accuracy": verification.accuracy["top1"] if verification.accuracy else None,
             "parameters": verification.artifact.info.parameter_count}]


def _publish(staging: Path, out_dir: Path, report: dict[str, Any]) -> None:
    """Staged beside the output, then renamed in: reports first, the artifact last."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (staging / reports.REPORT_JSON).write_bytes(reports.report_json(report))
    (staging / reports.REPORT_MD).write_text(reports.to_markdown(report))
    for name in (reports.REPORT_JSON, reports.REPORT_MD, reports.ARTIFACT):
        os.replace(staging / name, out_dir / name)
