"""Fit the student to the device before training: predict every candidate's artifact, choose one.

A candidate fits when its predicted artifact passes the release gate's own checks (verify/checks.py):
the file checks (size, gzip size, precision, I/O dtypes, ops), peak memory on the profile's basis
from the model bytes and arena alone, and host latency p50/p95 from a few runs in this process.
`choose: auto` takes the largest candidate (most parameters, then most MACs) that fits; when none
does, the build stops before any training with the smallest one's numbers against the budgets.
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from edgebuild.errors import GateFailed
from edgebuild.recipe import AUTO, Recipe, StudentConfig, StudentLadder
from edgebuild.toolchain import fit_predict
from edgebuild.toolchain.data import Normalization
from edgebuild.toolchain.pipeline import STAGES, conversion_source

# What each predicted figure is, for the report and `edgebuild fit --json`.
PREDICTED_FIGURES = {
    "size_bytes": "the .tflite at the profile's precision, with a metadata entry like the build's",
    "gzip_bytes": "that file after gzip -9, its Conv2D/Dense weights pruned and clustered as the recipe says",
    "peak_memory_bytes": "the release gate's memory estimate: arena, plus the model bytes on the 'process' basis; "
                         "the gate also measures RSS growth of a process running the model (3-6 MB for "
                         "LiteRT itself), which is not predicted",
    "arena_bytes": "largest sum of live activation tensors along the execution order, like LiteRT's arena planner",
    "parameters": "constant tensor elements in the file",
    "macs": "multiply-accumulates of one inference in CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED",
    "host_latency_ms": "p50 of a few invokes of the untrained artifact in this host's LiteRT at the profile's "
                       "threads: a host number, not the device's",
    "device_latency_ms": "macs / the profile's latency.throughput_gmacs: an estimate, never checked",
}


@dataclass(frozen=True)
class Prediction:
    size_bytes: int
    gzip_bytes: int
    peak_memory_bytes: int
    arena_bytes: int
    parameters: int
    macs: int
    host_latency_ms: float
    host_latency_p95_ms: float
    device_latency_ms: float | None


@dataclass(frozen=True)
class CandidateFit:
    name: str | None  # None: the recipe's one student
    student: StudentConfig
    predicted: Prediction
    fits: bool
    reasons: tuple[str, ...]  # one per failed check, with the predicted value and the limit

    def as_dict(self) -> dict[str, Any]:
        return {"student": self.name, "config": self.student.model_dump(mode="json"),
                "predicted": asdict(self.predicted), "fits": self.fits, "reasons": list(self.reasons)}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> CandidateFit:
        return cls(document["student"], StudentConfig.model_validate(document["config"]),
                   Prediction(**document["predicted"]), document["fits"], tuple(document["reasons"]))


@dataclass(frozen=True)
class FitResult:
    """The candidates for one profile, largest first, and the one to train."""

    profile: str
    precision: str
    io_dtype: str
    choose: str | None  # "auto", a pinned candidate's name, or None for a recipe with one student
    chosen: str | None  # the candidate to train; None for a recipe with one student, or when none fits
    student: StudentConfig  # what to train (when none fits: the smallest candidate)
    predicted: Prediction  # `student`'s figures: set them beside the measured ones with predicted_vs_measured
    fits: bool  # `student` is predicted to pass every check
    candidates: tuple[CandidateFit, ...]

    def shortfall(self, recipe_path: Path) -> str:
        """One line: which budgets the student to train is predicted to break, by how much."""
        if self.choose == AUTO:
            candidate = self.candidates[-1]
            who = f"no student candidate fits: the smallest, {candidate.name!r},"
        else:
            candidate = next(candidate for candidate in self.candidates if candidate.name == self.chosen)
            who = "the recipe's student" if candidate.name is None else f"student candidate {candidate.name!r}"
        return (f"{recipe_path}: {who} is predicted to break profile {self.profile}'s budgets before training: "
                f"{'; '.join(candidate.reasons)}")

    def as_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "precision": self.precision, "io_dtype": self.io_dtype,
                "choose": self.choose, "chosen": self.chosen, "fits": self.fits,
                "candidates": [candidate.as_dict() for candidate in self.candidates],
                "predicted_figures": PREDICTED_FIGURES}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> FitResult:
        """The inverse of as_dict for a result with a student to train (`chosen` set, or one student)."""
        candidates = tuple(CandidateFit.from_dict(candidate) for candidate in document["candidates"])
        chosen = next(candidate for candidate in candidates if candidate.name == document["chosen"])
        return cls(document["profile"], document["precision"], document["io_dtype"], document["choose"],
                   document["chosen"], chosen.student, chosen.predicted, document["fits"], candidates)


class NoCandidateFits(GateFailed):
    """`choose: auto` and no candidate fits; `result` holds every candidate's predictions."""

    def __init__(self, message: str, result: FitResult):
        super().__init__(message)
        self.result = result


def fit_recipe(recipe_ref: str, profile_ref: str) -> tuple[FitResult, Path]:
    """`edgebuild fit` as an API: the recipe and profile validated, the data's shape read, a student chosen."""
    from edgebuild.build import load_targets
    from edgebuild.toolchain.data import read_source

    recipe, recipe_path, (target,) = load_targets(recipe_ref, [profile_ref])
    raw = read_source(recipe.data.source, recipe_path.parent)
    input_shape = (*recipe.data.input_size, raw.images.shape[-1])
    return choose_student(recipe, recipe_path, target, input_shape, len(raw.class_names)), recipe_path


def choose_student(recipe: Recipe, recipe_path: Path, target, input_shape: tuple[int, int, int],
                   num_classes: int) -> FitResult:
    """The student to train for one build target (edgebuild.build.Target: profile, precision, I/O dtype).

    Raises NoCandidateFits (a GateFailed, exit 1) when `choose: auto` finds nothing that fits. A
    pinned candidate or a recipe's one student is returned even when predicted not to fit
    (`.fits`): the release gate, which measures, has the last word on those.
    """
    return choose_students(recipe, recipe_path, [target], input_shape, num_classes)[0]


def choose_students(recipe: Recipe, recipe_path: Path, targets: Sequence, input_shape: tuple[int, int, int],
                    num_classes: int) -> list[FitResult]:
    """`choose_student` for several targets; candidates convert once per precision and I/O dtype."""
    from edgebuild.converters.artifact import with_metadata

    names, students = _candidates(recipe)
    pattern = _kernel_pattern(recipe)
    stages = [stage.name for stage in STAGES if stage.config(recipe) is not None]
    converted: dict[tuple[str, str], list[bytes]] = {}
    results = []
    for target in targets:
        conversion = (target.precision, target.io_dtype)
        if conversion not in converted:
            converted[conversion] = fit_predict.converted_candidates(
                students, input_shape, num_classes, precision=target.precision, io_dtype=target.io_dtype,
                pattern=pattern, from_qat=conversion_source(target.precision, stages) == "qat", seed=recipe.seed)
        metadata = _metadata_like_the_build(recipe, target, input_shape, num_classes)
        assessed = [_assess(name, student, with_metadata(model_bytes, *metadata), target.profile)
                    for name, student, model_bytes in zip(names, students, converted[conversion])]
        results.append(_choice(recipe, recipe_path, target, assessed))
    return results


def predicted_vs_measured(predicted: Prediction, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each predicted figure beside the build report's measured one, with the error in percent.

    Peak memory is set beside the gate's estimate on the profile's basis, which is what is predicted;
    on the "process" basis the checked value may be the measured RSS growth instead (report["memory"]).
    """
    artifact, memory = report["artifact"], report["memory"]
    latency = report.get("latency_ms") or {}
    estimated_peak = memory["checked_bytes"] if memory["basis"] == "arena" else memory["estimated_bytes"]
    measured = {"size_bytes": artifact["size_bytes"], "gzip_bytes": artifact["gzip_bytes"],
                "peak_memory_bytes": estimated_peak, "arena_bytes": memory["estimated_arena_bytes"],
                "parameters": artifact["parameters"], "host_latency_ms": latency.get("p50")}
    rows = {}
    for figure, value in measured.items():
        guess = getattr(predicted, figure)
        error = round(100.0 * (guess - value) / value, 2) if value else None
        rows[figure] = {"predicted": guess, "measured": value, "error_pct": error}
    return rows


def _candidates(recipe: Recipe) -> tuple[list[str | None], list[StudentConfig]]:
    if isinstance(recipe.student, StudentLadder):
        return ([candidate.name for candidate in recipe.student.candidates],
                [candidate.config() for candidate in recipe.student.candidates])
    return [None], [recipe.student]


def _kernel_pattern(recipe: Recipe) -> fit_predict.KernelPattern:
    prune, cluster = recipe.prune, recipe.cluster
    zero_fraction = 0.0
    if prune is not None:
        zero_fraction = prune.target_sparsity if prune.m_by_n is None else prune.m_by_n[0] / prune.m_by_n[1]
    return fit_predict.KernelPattern(zero_fraction, cluster.number_of_clusters if cluster is not None else None)


def _assess(name: str | None, student: StudentConfig, model_bytes: bytes, profile) -> CandidateFit:
    from edgebuild.verify.checks import latency_checks, memory_check, read_artifact, static_checks

    with tempfile.TemporaryDirectory(prefix="edgebuild-fit-") as scratch:
        path = Path(scratch) / "predicted.tflite"
        path.write_bytes(model_bytes)
        artifact = read_artifact(path)
        latency_ms = fit_predict.host_latency_ms(path, profile.latency.threads)
    memory, _ = memory_check(artifact, profile, measured_bytes=None)
    checks = [*static_checks(artifact, profile), memory, *latency_checks(latency_ms, profile)]
    macs = fit_predict.multiply_accumulates(artifact.info)
    throughput = profile.latency.throughput_gmacs
    predicted = Prediction(
        size_bytes=artifact.info.size_bytes, gzip_bytes=artifact.gzip_bytes, peak_memory_bytes=memory.value,
        arena_bytes=artifact.arena_bytes, parameters=artifact.info.parameter_count, macs=macs,
        host_latency_ms=round(latency_ms["p50"], 4), host_latency_p95_ms=round(latency_ms["p95"], 4),
        device_latency_ms=round(macs / (throughput * 1e9) * 1e3, 4) if throughput else None)
    reasons = tuple(f"predicted {check.reason}" for check in checks if not check.passed)
    return CandidateFit(name, student, predicted, not reasons, reasons)


def _choice(recipe: Recipe, recipe_path: Path, target, assessed: list[CandidateFit]) -> FitResult:
    ranked = tuple(sorted(assessed, key=lambda c: (c.predicted.parameters, c.predicted.macs), reverse=True))
    choose = recipe.student.choose if isinstance(recipe.student, StudentLadder) else None
    if choose == AUTO:
        chosen = next((candidate for candidate in ranked if candidate.fits), ranked[-1])
    else:  # a pinned name, or None: the name of a recipe's one student
        chosen = next(candidate for candidate in ranked if candidate.name == choose)
    nothing_fits = choose == AUTO and not chosen.fits
    result = FitResult(target.profile.name, target.precision, target.io_dtype, choose,
                       None if nothing_fits else chosen.name, chosen.student, chosen.predicted, chosen.fits, ranked)
    if nothing_fits:
        raise NoCandidateFits(result.shortfall(recipe_path), result)
    return result


@dataclass(frozen=True)
class _DatasetFacts:
    """What converters/artifact.with_metadata reads off a dataset."""

    class_names: tuple[str, ...]
    input_shape: tuple[int, int, int]
    normalization: Normalization


def _metadata_like_the_build(recipe: Recipe, target, input_shape: tuple[int, int, int],
                             num_classes: int) -> tuple[_DatasetFacts, dict]:
    """with_metadata's arguments for an entry the size of the build's (edgebuild/build.py,
    publish_verified): ~1 KB, 5% of a 20 KB model. Hashes are placeholders of a sha256's length;
    labels are class numbers."""
    from edgebuild.tfenv import tool_versions

    sha256 = "0" * 64
    provenance = {"recipe": recipe.name, "profile": target.profile.name, "precision": target.precision,
                  "io_dtype": target.io_dtype, "seed": recipe.seed,
                  "inputs": {"recipe_sha256": sha256, "data_sha256": sha256, "seed": recipe.seed,
                             "profile_sha256": sha256},
                  "versions": tool_versions()}
    dataset = _DatasetFacts(tuple(str(label) for label in range(num_classes)), input_shape,
                            Normalization(1 / 255, 0.0, (0.0, 255.0)))
    return dataset, provenance
