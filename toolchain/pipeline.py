"""The training stages in order, each cached by a key over everything it depends on, each gated."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from edgebuild.errors import GateFailed
from edgebuild.toolchain import distill, prune, qat, students, teacher, training
from edgebuild.toolchain.cache import StageCache, cache_key, code_version, file_sha256
from edgebuild.toolchain.training import StageContext, Upstream

METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class TrainingStage:
    name: str
    module: ModuleType  # train(ctx, upstream) -> model; restore(ctx, folder, upstream) -> model

    def config(self, recipe):
        return getattr(recipe, self.name)

    def code_version(self) -> str:
        return code_version(self.module.__file__, training.__file__, students.__file__)


STAGES = (
    TrainingStage("teacher", teacher),
    TrainingStage("distill", distill),
    TrainingStage("prune", prune),
    TrainingStage("qat", qat),
)


@dataclass(frozen=True)
class StageOutcome:
    name: str
    key: str
    cached: bool
    seconds: float
    metrics: dict[str, Any]
    inputs: dict[str, Any]


@dataclass(frozen=True)
class TrainedModels:
    outcomes: tuple[StageOutcome, ...]
    models: dict[str, Callable[[], Any]]  # stage name → its model, restored from the cache on first call

    def outcome(self, stage: str) -> StageOutcome:
        return next(outcome for outcome in self.outcomes if outcome.name == stage)


def conversion_source(precision: str, stages: list[str]) -> str:
    """int8 converts the QAT model when there is one (else post-training quantization of the float
    model); float precisions take the last float stage, since QAT's fake-quant nodes would quantize."""
    if precision == "int8" and "qat" in stages:
        return "qat"
    return next(name for name in ("prune", "distill") if name in stages)


@dataclass(frozen=True)
class PlannedStage:
    stage: TrainingStage
    key: str
    inputs: dict[str, Any]


def plan_training(recipe, data_sha256: str, seed: int, versions: dict, base_dir: Path) -> list[PlannedStage]:
    """Each enabled stage with its cache key, computed without training (or importing TensorFlow)."""
    planned, upstream_key = [], ""
    for stage in STAGES:
        if stage.config(recipe) is None:
            continue
        inputs = stage_key_inputs(stage, recipe, data_sha256, seed, versions, upstream_key, base_dir)
        upstream_key = cache_key(inputs)
        planned.append(PlannedStage(stage, upstream_key, inputs))
    return planned


def stage_key_inputs(stage: TrainingStage, recipe, data_sha256: str, seed: int, versions: dict,
                     upstream_key: str, base_dir: Path) -> dict[str, Any]:
    """Everything a stage's output depends on; its hash is the cache key."""
    inputs = {
        "stage": stage.name,
        "code": stage.code_version(),
        "config": stage.config(recipe).model_dump(mode="json"),
        "student": recipe.student.model_dump(mode="json") if stage.name != "teacher" else None,
        "upstream": upstream_key,
        "data": {"sha256": data_sha256, **recipe.data.model_dump(mode="json", exclude={"source"})},
        "seed": seed,
        "versions": training_versions(versions),
    }
    teacher_file = teacher.teacher_file(recipe, base_dir) if stage.name == "teacher" else None
    if teacher_file is not None and teacher_file.is_file():
        inputs["teacher_file_sha256"] = file_sha256(teacher_file)
    return inputs


def training_versions(versions: dict) -> dict:
    """The versions that change what a stage computes (not Python's or edgebuild's own)."""
    return {name: version for name, version in versions.items() if name not in ("python", "edgebuild")}


def run_training(ctx: StageContext, cache: StageCache, versions: dict) -> TrainedModels:
    outcomes: list[StageOutcome] = []
    upstream = Upstream()
    loaders: dict[str, Callable[[], Any]] = {}
    for planned in plan_training(ctx.recipe, ctx.dataset.sha256, ctx.seed, versions, ctx.base_dir):
        stage = planned.stage
        outcome, loader = _run_stage(stage, ctx, cache, planned.key, planned.inputs, upstream, loaders)
        cache.index.record(f"{ctx.recipe.name}/{stage.name}", planned.inputs)
        _gate(stage, ctx.recipe, outcome, outcomes)
        outcomes.append(outcome)
        loaders[stage.name] = loader
        upstream = replace(upstream, pruned=upstream.pruned or stage.name == "prune")
    return TrainedModels(tuple(outcomes), loaders)


def _run_stage(stage, ctx, cache, key, inputs, upstream, loaders):
    ctx.events.emit("stage_started", stage=stage.name, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        if entry is None:
            live = replace(upstream, teacher=_call(loaders.get("teacher")), previous=_call(_last(loaders)))
            with cache.produce(key) as scratch:
                model = stage.module.train(ctx, live)
                metrics = _evaluate(model, ctx.dataset, time.perf_counter() - started)
                training.save_weights(model, scratch)
                (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True, indent=1))
            loader = functools.cache(lambda: model)
        else:
            metrics = json.loads((entry / METRICS_FILE).read_text())
            loader = functools.cache(functools.partial(stage.module.restore, ctx, entry, upstream))
    cached = entry is not None
    seconds = time.perf_counter() - started
    ctx.events.emit("stage_cached" if cached else "stage_finished", stage=stage.name, key=key, seconds=seconds,
                    accuracy=metrics["accuracy"])
    return StageOutcome(stage.name, key, cached, seconds, metrics, inputs), loader


def _call(loader):
    return loader() if loader is not None else None


def _last(loaders: dict):
    return list(loaders.values())[-1] if loaders else None


def _evaluate(model, dataset, train_seconds: float) -> dict[str, Any]:
    return {
        "accuracy": training.accuracy(model, dataset.x_test, dataset.y_test),
        "accuracy_all_data": training.accuracy(model, dataset.x_all, dataset.y_all),
        "parameters": int(model.count_params()),
        "sparsity": training.kernel_sparsity(model),
        "train_seconds": round(train_seconds, 3),
    }


def _gate(stage: TrainingStage, recipe, outcome: StageOutcome, earlier: list[StageOutcome]) -> None:
    accuracy = outcome.metrics["accuracy"]
    if accuracy < recipe.min_stage_accuracy:
        raise GateFailed(f"stage {stage.name} collapsed: test accuracy {accuracy:.1%} is below the floor "
                         f"min_stage_accuracy={recipe.min_stage_accuracy:.0%} (BatchNorm statistics that never "
                         "settle do this: lower student.bn_momentum or train longer)")
    allowed = getattr(stage.config(recipe), "max_accuracy_drop", None)
    if allowed is None or not earlier:
        return
    drop = earlier[-1].metrics["accuracy"] - accuracy
    if drop > allowed:
        raise GateFailed(f"stage {stage.name}: test accuracy fell {drop:.1%} (from {earlier[-1].metrics['accuracy']:.1%} "
                         f"after {earlier[-1].name} to {accuracy:.1%}), more than {stage.name}.max_accuracy_drop="
                         f"{allowed:.1%}")
