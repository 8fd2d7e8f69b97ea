"""A training module as a cached, gated stage.

A training module (teacher, distill, prune, cluster, qat) exports `train(job) -> model` and
`restore(job, folder) -> model`. This class names it without importing it, so planning (keys from
the import graph) never loads TensorFlow; the module is imported when the stage computes, or when
a later step asks for a cached stage's model.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.errors import GateFailed
from edgebuild.base.stage import Stage, StageRun, Upstream
from edgebuild.config.students import StudentConfig
from edgebuild.toolchain.context import BuildContext, TrainingJob, training_versions

METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class TrainedModel:
    """A stage's Keras model, built or restored only when a later step asks, and its measured metrics."""

    metrics: dict[str, Any]
    load: Callable[[], Any]
    float_model: bool = True  # False for QAT's fake-quantized model


@dataclass(frozen=True)
class TrainingStage(Stage[TrainedModel]):
    ctx: BuildContext
    name: str  # also the recipe section and the module edgebuild.toolchain.<name>
    student: StudentConfig | None  # None for the teacher
    previous: str | None  # the upstream stage whose model this one starts from
    float_model: bool = True

    @property
    def module_name(self) -> str:
        return f"edgebuild.toolchain.{self.name}"

    def code_roots(self) -> tuple[str, ...]:
        return (__name__, self.module_name)

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        ctx = self.ctx
        inputs = {
            "config": getattr(ctx.recipe, self.name).model_dump(mode="json"),
            "student": self.student.model_dump(mode="json") if self.student is not None else None,
            "upstream": {name: upstream.key(name) for name in ("data", self.previous) if name},
            "seed": ctx.seed,
            "versions": training_versions(ctx.versions),
        }
        if ctx.recipe.augment is not None:  # absent: the keys of recipes without it stay as they were
            inputs["augment"] = ctx.recipe.augment.model_dump(mode="json")
        if ctx.strategy_name != "default":  # reductions across replicas change the numbers a little
            inputs["strategy"] = ctx.strategy_name
        return inputs

    def run(self, upstream: Upstream, scratch: Path) -> TrainedModel:
        from edgebuild.toolchain import training

        started = time.perf_counter()
        job = self._job(upstream)
        if self.previous is not None:
            # Before the stage reseeds: restoring a cached model draws from the random state, and a
            # model left in memory by a cold build does not; drawn later, the two would train apart.
            job.previous_model()
        with _scope(self.ctx.strategy):
            model = self._module().train(job)
        metrics = training.evaluate(model, job.dataset, time.perf_counter() - started)
        training.save_weights(model, scratch)
        (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True, indent=1))
        return TrainedModel(metrics, lambda: model, self.float_model)

    def load(self, upstream: Upstream, entry: Path) -> TrainedModel:
        metrics = json.loads((entry / METRICS_FILE).read_text())
        # Importing the module imports TensorFlow (2 s): only when a later step needs the model.
        restore = functools.cache(lambda: self._module().restore(self._job(upstream), entry))
        return TrainedModel(metrics, restore, self.float_model)

    def check(self, output: TrainedModel, upstream: Upstream) -> None:
        recipe, accuracy = self.ctx.recipe, output.metrics["accuracy"]
        if accuracy < recipe.min_stage_accuracy:
            raise GateFailed(f"stage {self.name} collapsed: test accuracy {accuracy:.1%} is below the floor "
                             f"min_stage_accuracy={recipe.min_stage_accuracy:.0%} ({self._collapse_cause()})")
        allowed = getattr(getattr(recipe, self.name), "max_accuracy_drop", None)
        if allowed is None or self.previous is None:
            return
        before = upstream.output(self.previous).metrics["accuracy"]
        if before - accuracy > allowed:
            raise GateFailed(f"stage {self.name}: test accuracy fell {before - accuracy:.1%} (from {before:.1%} after "
                             f"{self.previous} to {accuracy:.1%}), more than {self.name}.max_accuracy_drop={allowed:.1%}")

    def summary(self, output: TrainedModel) -> dict[str, Any]:
        return {"accuracy": output.metrics["accuracy"]}

    def _module(self):
        return importlib.import_module(self.module_name)

    def _job(self, upstream: Upstream) -> TrainingJob:
        return TrainingJob(self.ctx, self.student, upstream, self.previous)

    def _collapse_cause(self) -> str:
        if self.name in _COLLAPSE_CAUSES:
            return _COLLAPSE_CAUSES[self.name]
        momentum = getattr(self.student, "bn_momentum", None)
        return (f"BatchNorm statistics that never settle do this: lower student.bn_momentum (now {momentum}) "
                "or train longer")


def standalone_job(ctx: BuildContext, dataset, student: StudentConfig | None = None, previous_model: Any = None,
                   **outputs: Any) -> TrainingJob:
    """A TrainingJob for calling one training module outside the pipeline (benchmarks, notebooks, tests):
    `dataset` as the data stage's result, `previous_model` (a Keras model) as the stage before it,
    and each of `outputs` (soft_targets=SoftTargets(...), ...) as another earlier stage's result."""
    results = {"data": dataset, **outputs}
    if previous_model is not None:
        results["previous"] = TrainedModel({}, lambda: previous_model)
    runs = {name: StageRun(name, name, {}, False, 0.0, None, output) for name, output in results.items()}
    return TrainingJob(ctx, student, Upstream(runs), "previous" if previous_model is not None else None)


_COLLAPSE_CAUSES = {
    "teacher": "the teacher did not learn: check teacher.training and the labels",
    "prune": "too many weights removed: lower prune.target_sparsity or raise prune.training.epochs",
    "cluster": "too few distinct weights: raise cluster.number_of_clusters or cluster.training.epochs",
}


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()
