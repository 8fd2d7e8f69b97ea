"""The fit stage: before training, predict every student candidate's artifact and choose one.

A candidate fits when its predicted artifact passes the release gate's own checks (verify/checks.py):
the file checks (size, gzip size, precision, I/O dtypes, ops), peak memory on the profile's basis
from the model bytes and arena alone, and host latency p50/p95 from a few runs in this process. For an Ethos-U profile each candidate is also compiled with Vela
(the NPU checks: ops on the NPU, estimated time, SRAM, weight memory), and for a TFLite Micro
profile run in TFLite Micro (the op check and the arena it really allocates), so the chosen student
fits the device's own tool before a minute of training is spent.
`choose: auto` takes the largest candidate (most parameters, then most MACs) that fits; when none
does, the build stops before any training with the smallest one's numbers against the budgets.
"""

from __future__ import annotations

import functools
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.cache import file_sha256
from edgebuild.base.errors import GateFailed
from edgebuild.base.host import describe_host
from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.precisions import PRECISIONS
from edgebuild.config.recipe import AUTO, Recipe, StudentLadder
from edgebuild.config.students import STUDENTS, StudentConfig
from edgebuild.config.targets import Target
from edgebuild.converters import fit_predict
from edgebuild.converters.artifact import multiply_accumulates, read_artifact
from edgebuild.converters.vela import VelaFailed, compile_for_npu, vela_version
from edgebuild.converters.metadata import provenance, with_metadata
from edgebuild.converters.tensor_names import published_names
from edgebuild.toolchain.context import training_versions
from edgebuild.toolchain.datasets import Normalization
from edgebuild.verify.checks import Check, latency_checks, memory_check, npu_checks, static_checks
from edgebuild.verify.micro_runtime import memory_basis, micro_checks, micro_runtime_version, run_in_micro

RESULT_FILE = "fit.json"

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
    "npu_inference_ms": "Vela's estimated inference time of the untrained artifact (Ethos-U profiles)",
    "npu_sram_bytes": "Vela's SRAM use of the untrained artifact (Ethos-U profiles)",
    "micro_arena_bytes": "the tensor arena TFLite Micro allocated for the untrained artifact (TFLite Micro profiles)",
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
    npu_inference_ms: float | None = None
    npu_sram_bytes: int | None = None
    micro_arena_bytes: int | None = None


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
        config = STUDENTS.get(document["config"]["architecture"]).config.model_validate(document["config"])
        return cls(document["student"], config, Prediction(**document["predicted"]), document["fits"],
                   tuple(document["reasons"]))


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
        """The inverse of as_dict."""
        candidates = tuple(CandidateFit.from_dict(candidate) for candidate in document["candidates"])
        return _result(document["profile"], document["precision"], document["io_dtype"], document["choose"],
                       candidates)

    @property
    def nothing_fits(self) -> bool:
        return self.choose == AUTO and not self.fits


class NoCandidateFits(GateFailed):
    """`choose: auto` and no candidate fits; `result` holds every candidate's predictions."""

    def __init__(self, message: str, result: FitResult):
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class FitStage(Stage[FitResult]):
    """One target's candidates predicted and assessed against its profile; the choice is gated in
    `check` (NoCandidateFits), so a stored result of "nothing fits" fails every build that reads it."""

    recipe: Recipe
    recipe_path: Path
    target: Target
    versions: dict[str, str]
    name = "fit"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        """The candidates, what pruning and clustering leave, the profile, the model's shape, the tools,
        and the host (predictions include host latency)."""
        recipe, target, data = self.recipe, self.target, upstream.output("data")
        return {"recipe": recipe.name, "seed": recipe.seed, "student": recipe.student.model_dump(mode="json"),
                "qat": recipe.qat is not None, "prune": _dump(recipe.prune), "cluster": _dump(recipe.cluster),
                "profile_sha256": file_sha256(target.profile_path), "precision": target.precision,
                "io_dtype": target.io_dtype, "input_shape": list(data.input_shape), "num_classes": data.num_classes,
                "versions": training_versions(self.versions), "host": describe_host().identity(),
                "device_tool": _device_tool(target.profile)}

    def run(self, upstream: Upstream, scratch: Path) -> FitResult:
        data = upstream.output("data")
        result = predict_fit(self.recipe, self.target, data.input_shape, data.num_classes, self.versions)
        (scratch / RESULT_FILE).write_text(json.dumps(result.as_dict(), sort_keys=True, indent=1))
        return result

    def load(self, upstream: Upstream, entry: Path) -> FitResult:
        return FitResult.from_dict(json.loads((entry / RESULT_FILE).read_text()))

    def check(self, output: FitResult, upstream: Upstream) -> None:
        if output.nothing_fits:
            raise NoCandidateFits(output.shortfall(self.recipe_path), output)

    def summary(self, output: FitResult) -> dict[str, Any]:
        return {"chosen": output.chosen}


def predict_fit(recipe: Recipe, target: Target, input_shape: tuple[int, int, int], num_classes: int,
                versions: dict[str, str]) -> FitResult:
    """Every candidate's predicted artifact for `target`, assessed by the release gate's own checks."""
    names, students = _candidates(recipe)
    from_qat = recipe.qat is not None and PRECISIONS.get(target.precision).converts_qat_model
    converted = _converted(tuple(students), input_shape, num_classes, target.precision, target.io_dtype,
                           _kernel_pattern(recipe), from_qat, recipe.seed)
    labels, metadata = _metadata_like_the_build(recipe, target, num_classes, versions)
    assessed = [_assess(name, student, with_metadata(published_names(model_bytes, recipe.convert.tensor_names), labels,
                                                     input_shape, *metadata), target.profile)
                for name, student, model_bytes in zip(names, students, converted)]
    choose = recipe.student.choose if isinstance(recipe.student, StudentLadder) else None
    return _result(target.name, target.precision, target.io_dtype, choose, tuple(assessed))


@functools.lru_cache(maxsize=4)
def _converted(students: tuple[StudentConfig, ...], input_shape: tuple[int, int, int], num_classes: int,
               precision: str, io_dtype: str, pattern: fit_predict.KernelPattern, from_qat: bool,
               seed: int) -> list[bytes]:
    """Candidates convert once per precision and I/O dtype, however many profiles share them (1.5 s each)."""
    return fit_predict.converted_candidates(students, input_shape, num_classes, precision=precision,
                                            io_dtype=io_dtype, pattern=pattern, from_qat=from_qat, seed=seed)


def predicted_vs_measured(predicted: Prediction, report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each predicted figure beside the build report's measured one, with the error in percent.

    Peak memory is set beside the gate's estimate on the profile's basis, which is what is predicted;
    on the "process" basis the checked value may be the measured RSS growth instead (report["memory"]).
    """
    artifact, memory = report["artifact"], report["memory"]
    latency = report.get("latency_ms") or {}
    on_arena = memory["basis"] in ("arena", "micro-runtime")
    estimated_peak = memory["checked_bytes"] if on_arena else memory["estimated_bytes"]
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
        return recipe.student.names(), recipe.student.students()
    return [None], [recipe.student]


def _kernel_pattern(recipe: Recipe) -> fit_predict.KernelPattern:
    prune, cluster = recipe.prune, recipe.cluster
    zero_fraction = 0.0
    if prune is not None:
        zero_fraction = prune.target_sparsity if prune.m_by_n is None else prune.m_by_n[0] / prune.m_by_n[1]
    return fit_predict.KernelPattern(zero_fraction, cluster.number_of_clusters if cluster is not None else None)


def _assess(name: str | None, student: StudentConfig, model_bytes: bytes, profile) -> CandidateFit:
    with tempfile.TemporaryDirectory(prefix="edgebuild-fit-") as scratch:
        path = Path(scratch) / "predicted.tflite"
        path.write_bytes(model_bytes)
        artifact = read_artifact(path)
        latency_ms = fit_predict.host_latency_ms(path, profile.latency.threads)
        micro = run_in_micro(artifact, None) if profile.micro_runtime is not None else None
    memory, _ = memory_check(artifact, profile, None, memory_basis(micro, artifact, profile))
    checks = [*static_checks(artifact, profile), memory, *latency_checks(latency_ms, profile)]
    if micro is not None:
        checks.extend(micro_checks(micro, artifact, profile, min_top1=0.0))
    npu, npu_figures = _npu_fit(model_bytes, profile)
    macs = multiply_accumulates(artifact.info)
    throughput = profile.latency.throughput_gmacs
    predicted = Prediction(
        size_bytes=artifact.info.size_bytes, gzip_bytes=artifact.gzip_bytes, peak_memory_bytes=memory.value,
        arena_bytes=artifact.arena_bytes, parameters=artifact.info.parameter_count, macs=macs,
        host_latency_ms=round(latency_ms["p50"], 4), host_latency_p95_ms=round(latency_ms["p95"], 4),
        device_latency_ms=round(macs / (throughput * 1e9) * 1e3, 4) if throughput else None,
        micro_arena_bytes=micro.arena_bytes if micro is not None else None, **npu_figures)
    reasons = tuple(f"predicted {check.reason}" for check in [*checks, *npu] if check.ran and not check.passed)
    return CandidateFit(name, student, predicted, not reasons, reasons)


def _npu_fit(model_bytes: bytes, profile) -> tuple[list[Check], dict[str, Any]]:
    """An Ethos-U profile's checks of the untrained candidate compiled with Vela, and its figures."""
    if profile.npu is None:
        return [], {}
    try:
        result = compile_for_npu(model_bytes, profile.npu).result
    except VelaFailed as failed:
        return [Check("npu_compile", False, True, False, str(failed), "vendor-estimate")], {}
    return npu_checks(result, profile), {"npu_inference_ms": round(result.inference_time_s * 1000, 6),
                                         "npu_sram_bytes": result.sram_bytes}


def _device_tool(profile) -> dict[str, Any] | None:
    """What a candidate's device-side check depends on besides the profile file: the tool and its config."""
    if profile.npu is not None:
        return {"vela": vela_version(), "vela_ini_sha256": file_sha256(profile.npu.config_file)}
    if profile.micro_runtime is not None:
        return {"tflite-micro": micro_runtime_version()}
    return None


def _result(profile: str, precision: str, io_dtype: str, choose: str | None,
            assessed: tuple[CandidateFit, ...]) -> FitResult:
    ranked = tuple(sorted(assessed, key=lambda c: (c.predicted.parameters, c.predicted.macs), reverse=True))
    if choose == AUTO:
        chosen = next((candidate for candidate in ranked if candidate.fits), ranked[-1])
    else:  # a pinned name, or None: the name of a recipe's one student
        chosen = next(candidate for candidate in ranked if candidate.name == choose)
    nothing_fits = choose == AUTO and not chosen.fits
    return FitResult(profile, precision, io_dtype, choose, None if nothing_fits else chosen.name, chosen.student,
                     chosen.predicted, chosen.fits, ranked)


def _metadata_like_the_build(recipe: Recipe, target: Target, num_classes: int,
                             versions: dict[str, str]) -> tuple[list[str], tuple[dict, dict]]:
    """with_metadata's arguments for an entry the size of the build's (app/publish.py): ~1 KB, 5% of a
    20 KB model. Hashes are placeholders of a sha256's length; labels are class numbers."""
    sha256 = "0" * 64
    inputs = {"recipe_sha256": sha256, "data_sha256": sha256, "seed": recipe.seed, "profile_sha256": sha256}
    normalization = Normalization(1 / 255, 0.0, (0.0, 255.0)).as_dict()
    labels = [str(label) for label in range(num_classes)]
    return labels, (normalization, provenance("recipe", recipe.name, target, recipe.seed, inputs, versions))


def _dump(section) -> dict | None:
    return section.model_dump(mode="json") if section is not None else None
