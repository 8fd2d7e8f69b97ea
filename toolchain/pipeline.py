"""The training stages in order, each cached by a key over everything it depends on, each gated."""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from edgebuild.errors import GateFailed
from edgebuild.toolchain.cache import StageCache, cache_key, code_version, file_sha256
from edgebuild.toolchain.stage import StageContext, Upstream, teacher_file

METRICS_FILE = "metrics.json"
_SHARED_CODE = ("edgebuild.toolchain.training", "edgebuild.toolchain.students")


@dataclass(frozen=True)
class TrainingStage:
    """A stage module exports train(ctx, upstream) -> model and restore(ctx, folder, upstream) -> model.

    Modules are named, not imported, so planning (keys from source hashes) never loads TensorFlow."""

    name: str
    module_name: str

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(self.module_name)

    def config(self, recipe):
        return getattr(recipe, self.name)

    def code_version(self) -> str:
        return code_version(*(importlib.util.find_spec(name).origin for name in (self.module_name, *_SHARED_CODE)))


STAGES = tuple(TrainingStage(name, f"edgebuild.toolchain.{name}")
               for name in ("teacher", "distill", "prune", "cluster", "qat"))


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
    return next(name for name in ("cluster", "prune", "distill") if name in stages)


@dataclass(frozen=True)
class PlannedStage:
    stage: TrainingStage
    key: str
    inputs: dict[str, Any]


def plan_training(recipe, data_sha256: str, seed: int, versions: dict, base_dir: Path,
                  strategy_name: str = "default") -> list[PlannedStage]:
    """Each enabled stage with its cache key, computed without training (or importing TensorFlow)."""
    planned, upstream_key = [], ""
    for stage in STAGES:
        if stage.config(recipe) is None:
            continue
        inputs = stage_key_inputs(stage, recipe, data_sha256, seed, versions, upstream_key, base_dir)
        if strategy_name != "default":  # reductions across replicas change the numbers a little
            inputs["strategy"] = strategy_name
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
    user_teacher = teacher_file(recipe, base_dir) if stage.name == "teacher" else None
    if user_teacher is not None and user_teacher.is_file():
        inputs["teacher_file_sha256"] = file_sha256(user_teacher)
    return inputs


def training_versions(versions: dict) -> dict:
    """The versions that change what a stage computes (not Python's or edgebuild's own)."""
    return {name: version for name, version in versions.items() if name not in ("python", "edgebuild")}


def run_training(ctx: StageContext, cache: StageCache, versions: dict) -> TrainedModels:
    outcomes: list[StageOutcome] = []
    upstream = Upstream()
    loaders: dict[str, Callable[[], Any]] = {}
    for planned in plan_training(ctx.recipe, ctx.dataset.sha256, ctx.seed, versions, ctx.base_dir,
                                 ctx.strategy_name):
        stage = planned.stage
        outcome, loader = _run_stage(stage, ctx, cache, planned.key, planned.inputs, upstream, loaders)
        cache.index.record(f"{ctx.recipe.name}/{stage.name}", planned.inputs)
        _gate(stage, ctx.recipe, outcome, outcomes)
        outcomes.append(outcome)
        loaders[stage.name] = loader
    return TrainedModels(tuple(outcomes), loaders)


def _run_stage(stage, ctx, cache, key, inputs, upstream, loaders):
    ctx.events.emit("stage_started", stage=stage.name, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        if entry is None:
            with _scope(ctx.strategy), cache.produce(key, stage.name) as scratch:
                live = replace(upstream, teacher=_call(loaders.get("teacher")), previous=_call(_last(loaders)))
                model = stage.module.train(ctx, live)
                metrics = _evaluate(model, ctx.dataset, time.perf_counter() - started)
                _save_weights(model, scratch)
                (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True, indent=1))
            loader = functools.cache(lambda: model)
        else:
            metrics = json.loads((entry / METRICS_FILE).read_text())
            # Importing the stage's module imports TensorFlow (2 s): only when a later stage needs the model.
            loader = functools.cache(functools.partial(_restore, stage, ctx, entry, upstream))
    cached = entry is not None
    seconds = time.perf_counter() - started
    ctx.events.emit("stage_cached" if cached else "stage_finished", stage=stage.name, key=key, seconds=seconds,
                    accuracy=metrics["accuracy"])
    return StageOutcome(stage.name, key, cached, seconds, metrics, inputs), loader


def _restore(stage: TrainingStage, ctx, entry: Path, upstream):
    return stage.module.restore(ctx, entry, upstream)


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def _call(loader):
    return loader() if loader is not None else None


def _last(loaders: dict):
    return list(loaders.values())[-1] if loaders else None


def _save_weights(model, folder: Path) -> None:
    from edgebuild.toolchain.training import save_weights

    save_weights(model, folder)


def _evaluate(model, dataset, train_seconds: float) -> dict[str, Any]:
    from edgebuild.toolchain import training

    size_bytes, gzip_bytes = training.weights_bytes(model)  # its Keras variables, not a .tflite
    return {
        "accuracy": training.accuracy(model, dataset.x_test, dataset.y_test),
        "accuracy_all_data": training.accuracy(model, dataset.x_all, dataset.y_all),
        "accuracy_validation": training.accuracy(model, dataset.x_val, dataset.y_val) if len(dataset.y_val) else None,
        "parameters": int(model.count_params()),
        "sparsity": training.kernel_sparsity(model),
        "size_bytes": size_bytes,
        "gzip_bytes": gzip_bytes,
        "train_seconds": round(train_seconds, 3),
    }


_COLLAPSE_CAUSES = {
    "teacher": "the teacher did not learn: check teacher.training and the labels",
    "prune": "too many weights removed: lower prune.target_sparsity or raise prune.training.epochs",
    "cluster": "too few distinct weights: raise cluster.number_of_clusters or cluster.training.epochs",
}


def _gate(stage: TrainingStage, recipe, outcome: StageOutcome, earlier: list[StageOutcome]) -> None:
    accuracy = outcome.metrics["accuracy"]
    if accuracy < recipe.min_stage_accuracy:
        cause = _COLLAPSE_CAUSES.get(stage.name, "BatchNorm statistics that never settle do this: lower "
                                     f"student.bn_momentum (now {recipe.student.bn_momentum}) or train longer")
        raise GateFailed(f"stage {stage.name} collapsed: test accuracy {accuracy:.1%} is below the floor "
                         f"min_stage_accuracy={recipe.min_stage_accuracy:.0%} ({cause})")
    allowed = getattr(stage.config(recipe), "max_accuracy_drop", None)
    if allowed is None or not earlier:
        return
    drop = earlier[-1].metrics["accuracy"] - accuracy
    if drop > allowed:
        raise GateFailed(f"stage {stage.name}: test accuracy fell {drop:.1%} (from {earlier[-1].metrics['accuracy']:.1%} "
                         f"after {earlier[-1].name} to {accuracy:.1%}), more than {stage.name}.max_accuracy_drop="
                         f"{allowed:.1%}")
