"""`edgebuild build` as an API: recipe × profiles → verified artifacts and reports."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild import report as reports
from edgebuild.errors import BadInput
from edgebuild.events import Events
from edgebuild.profile import DeviceProfile, load_profile, profile_names
from edgebuild.recipe import Recipe, load_recipe
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


def choose_target(recipe: Recipe, recipe_path: Path, profile: DeviceProfile, profile_path: Path) -> Target:
    """The recipe's most preferred precision the profile runs; refused (exit 2) before training."""
    for precision in recipe.convert.precisions:
        io_dtype = profile.io_dtype_for(precision) if precision in profile.precisions else None
        if io_dtype is not None:
            return Target(profile, profile_path, precision, io_dtype)
    raise BadInput(f"{recipe_path}: convert.precisions {list(recipe.convert.precisions)}: profile {profile.name} "
                   f"runs only {list(profile.precisions)} with I/O {list(profile.io_dtypes)}")


def load_targets(recipe_ref: str, profile_refs: list[str]) -> tuple[Recipe, Path, list[Target]]:
    """The recipe and every profile, validated before any work; `all` means every bundled profile."""
    recipe, recipe_path = load_recipe(recipe_ref)
    refs = [name for ref in profile_refs for name in (profile_names() if ref == "all" else [ref])]
    unique_refs = list(dict.fromkeys(refs))
    return recipe, recipe_path, [choose_target(recipe, recipe_path, *load_profile(ref)) for ref in unique_refs]


def conversion_scope(recipe_name: str, profile_name: str) -> str:
    return f"{recipe_name}/convert/{profile_name}"


def build(recipe_ref: str, profile_refs: list[str], out_root: Path, *, seed: int | None = None,
          cache_root: Path | None = None, events: Events = Events()) -> list[ProfileResult]:
    """Validate everything first, train once, then convert and verify for each profile."""
    from edgebuild import tfenv
    from edgebuild.toolchain import pipeline
    from edgebuild.toolchain.cache import StageCache, default_cache_root
    from edgebuild.toolchain.data import load_dataset
    from edgebuild.toolchain.training import StageContext

    recipe, recipe_path, targets = load_targets(recipe_ref, profile_refs)
    seed = recipe.seed if seed is None else seed
    tfenv.tensorflow(seed)
    data = recipe.data
    dataset = load_dataset(data.source, data.input_size, validation_fraction=data.validation_fraction,
                           test_fraction=data.test_fraction, seed=seed, base_dir=recipe_path.parent)
    ctx = StageContext(recipe, dataset, seed, events, recipe_path.parent)
    versions = tfenv.tool_versions()
    cache = StageCache(cache_root or default_cache_root())
    trained = pipeline.run_training(ctx, cache, versions)
    inputs = {"recipe_sha256": file_sha256(recipe_path), "data_sha256": dataset.sha256, "seed": seed}
    return [_build_for(target, ctx, trained, cache, versions, inputs, out_root) for target in targets]


def _build_for(target: Target, ctx, trained, cache, versions, inputs, out_root: Path) -> ProfileResult:
    from edgebuild.converters.artifact import convert_cached, with_metadata

    recipe, profile = ctx.recipe, target.profile
    out_dir = out_root / recipe.name / profile.name
    inputs = {**inputs, "profile_sha256": file_sha256(target.profile_path)}
    conversion = convert_cached(ctx, trained, cache, versions, target.precision, target.io_dtype,
                                conversion_scope(recipe.name, profile.name))
    artifact = with_metadata(conversion.model_bytes, ctx, target, versions, inputs)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{profile.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        (staging / reports.ARTIFACT).write_bytes(artifact)
        report = _verify(staging / reports.ARTIFACT, target, ctx, trained, conversion, versions, inputs)
        _publish(staging, out_dir, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ProfileResult(profile.name, out_dir, report["passed"], report)


def _verify(path: Path, target: Target, ctx, trained, conversion, versions, inputs) -> dict[str, Any]:
    from edgebuild.on_device_bench.local import run_isolated
    from edgebuild.toolchain.pipeline import conversion_source
    from edgebuild.verify.gate import AccuracyLimits, verify_model

    ctx.events.emit("stage_started", stage="verify", profile=target.profile.name)
    started = time.perf_counter()
    recipe, data = ctx.recipe, ctx.dataset
    float_stage = trained.outcome(conversion_source("float32", list(trained.models)))
    limits = AccuracyLimits(recipe.verify.min_accuracy, float_stage.metrics["accuracy"],
                            recipe.verify.max_drop_from_float)
    verification = verify_model(path, target.profile, data=(data.x_test, data.y_test), limits=limits)
    all_data = _all_data_accuracy(run_isolated, path, data)
    seconds = time.perf_counter() - started
    ctx.events.emit("stage_finished", stage="verify", profile=target.profile.name, seconds=seconds,
                    passed=verification.passed)
    report = {
        "title": f"{recipe.name} for {target.profile.name}",
        "recipe": recipe.name, "profile": target.profile.name,
        "precision": target.precision, "io_dtype": target.io_dtype,
        **reports.verification_sections(verification),
        "accuracy": {
            "float_student": float_stage.metrics["accuracy"],
            "artifact": verification.accuracy["top1"] if verification.accuracy else None,
            "float_student_all_data": float_stage.metrics["accuracy_all_data"],
            "artifact_all_data": all_data,
            "measured_on": f"held-out test split ({len(data.y_test)} samples) in the interpreter; "
                           f"*_all_data on all {len(data.y_all)} samples",
        },
        "stages": _stage_rows(trained, conversion, seconds, verification),
        "versions": versions,
        "inputs": inputs,
    }
    return report


def _all_data_accuracy(run_isolated, path: Path, data) -> float | None:
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="edgebuild-all-") as scratch:
        npz = Path(scratch) / "all.npz"
        np.savez(npz, x=data.x_all.astype(np.float32), y=data.y_all.astype(np.int64))
        try:
            measured = run_isolated(path, runs=1, min_seconds=0.0, warmup=0, data_path=npz)
        except Exception:  # the gate run already reported why the model cannot run
            return None
    return measured["accuracy"]["top1"] if measured.get("accuracy") else None


def _stage_rows(trained, conversion, verify_seconds: float, verification) -> list[dict[str, Any]]:
    rows = [{"name": o.name, "seconds": round(o.seconds, 3), "cached": o.cached, "key": o.key,
             "accuracy": o.metrics["accuracy"], "parameters": o.metrics["parameters"],
             "sparsity": round(o.metrics["sparsity"], 4)} for o in trained.outcomes]
    rows.append({"name": "convert", "seconds": round(conversion.seconds, 3), "cached": conversion.cached,
                 "key": conversion.key, "precision": conversion.precision,
                 "size_bytes": verification.artifact.info.size_bytes,
                 "sparsity": round(conversion.weight_sparsity, 4)})
    rows.append({"name": "verify", "seconds": round(verify_seconds, 3), "cached": False,
                 "accuracy": verification.accuracy["top1"] if verification.accuracy else None,
                 "parameters": verification.artifact.info.parameter_count})
    return rows


def _publish(staging: Path, out_dir: Path, report: dict[str, Any]) -> None:
    """Staged beside the output, then renamed in: reports first, the artifact last."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (staging / reports.REPORT_JSON).write_bytes(reports.report_json(report))
    (staging / reports.REPORT_MD).write_text(reports.to_markdown(report))
    for name in (reports.REPORT_JSON, reports.REPORT_MD, reports.ARTIFACT):
        os.replace(staging / name, out_dir / name)
