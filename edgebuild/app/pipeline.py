"""The pipeline: one ordered list of steps, walked by `build` and `convert`, and by `plan` as a dry run.

Each step makes the stage it runs for a target (or None where it does not apply), from the build
context and what the steps before it produced for that target. Steps are walked in order, each
for every target before the next: `fit` predicts every profile before a minute of training is
spent, and a stage whose key several targets share runs once. A stage that differs by profile
(`per_target`) names the profile in its events and in `plan`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from edgebuild.base.cache import cache_key
from edgebuild.base.errors import BadInput
from edgebuild.base.host import describe_host
from edgebuild.base.stage import NotBuilt, Stage, StageRun, Upstream, planned, run_cached, stage_inputs
from edgebuild.config.precisions import PRECISIONS
from edgebuild.config.recipe import FromTeacher, Recipe, StudentLadder
from edgebuild.config.targets import Target
from edgebuild.app.fit import FitStage
from edgebuild.converters.convert import ConvertStage
from edgebuild.converters.export import ExportStage
from edgebuild.converters.torch_convert import TorchConvertStage
from edgebuild.converters.vela import VelaStage
from edgebuild.toolchain.context import BuildContext, student_of
from edgebuild.toolchain.data import DataStage
from edgebuild.toolchain.foreign_models import is_tf_keras_candidate
from edgebuild.toolchain.model_files import ModelFileStage, teacher_model_file
from edgebuild.toolchain.soft_targets import SoftTargetsStage
from edgebuild.toolchain.torch_models import TorchModelStage
from edgebuild.toolchain.training_stage import TrainingStage
from edgebuild.verify.gate import timing_threads
from edgebuild.verify.measure import MeasureStage

MakeStage = Callable[[BuildContext, Target, Upstream], Stage | None]


@dataclass(frozen=True)
class Step:
    name: str
    make: MakeStage
    per_target: bool = False  # the result differs by profile
    model: Literal["float", "quantized"] | None = None  # the stage's result is a model, of this kind
    plan_runs: bool = False  # `plan` computes it when not cached: later keys depend on its result


def _data(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    return DataStage(ctx.data, ctx.seed, ctx.base_dir, ctx.data_flag)


def _fit(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    if ctx.recipe is None or not isinstance(ctx.recipe.student, StudentLadder):
        return None
    return FitStage(ctx.recipe, ctx.source_path, target, ctx.versions)


def _model_file(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    if ctx.model_file is None:
        return None
    return (TorchModelStage if _is_torch(ctx) else ModelFileStage)(ctx.model_file, ctx.versions)


def _is_torch(ctx: BuildContext) -> bool:
    return ctx.model_file is not None and ctx.model_file.framework == "torch"


def _teacher(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    """The recipe's teacher: trained from `architecture`, or the user's model file, which only infers."""
    if ctx.recipe is None or ctx.recipe.teacher.path is None:
        return _training("teacher")(ctx, target, upstream)
    model_file = teacher_model_file(ctx.recipe, ctx.base_dir)
    if isinstance(ctx.recipe.student, FromTeacher):
        _check_trainable(ctx.recipe, model_file.path)
    return ModelFileStage(model_file, ctx.versions, name="teacher", min_accuracy=ctx.recipe.min_stage_accuracy)


def _check_trainable(recipe: Recipe, path: Path) -> None:
    """TF-MOT wraps tf_keras layers only: a Keras 3 or .tflite model can be converted, not trained on."""
    training = [name for name in ("prune", "cluster", "qat") if getattr(recipe, name) is not None]
    if training and not is_tf_keras_candidate(path):
        raise BadInput(f"student.from: teacher: {path} is a Keras 3 or .tflite model, which TF-MOT cannot train "
                       f"({', '.join(training)} need a tf_keras model): remove those sections to convert it "
                       "post-training, or save the model with tf_keras")


def _soft_targets(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    if ctx.recipe is None or ctx.recipe.distill is None or ctx.recipe.distill.kind == "none":
        return None
    return SoftTargetsStage(ctx, with_features=ctx.recipe.distill.kind == "feature")


def _training(name: str) -> MakeStage:
    def make(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
        if ctx.recipe is None or getattr(ctx.recipe, name) is None:
            return None
        student = None if name == "teacher" else student_of(ctx, upstream)
        models = model_stages(upstream)
        return TrainingStage(ctx, name, student, models[-1] if models else None, float_model=name != "qat")

    return make


def _export(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    return None if _is_torch(ctx) else ExportStage(conversion_source(target, upstream))


def _convert(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    if _is_torch(ctx):  # litert-torch converts the module itself: no SavedModel in between
        return TorchConvertStage(target, ctx.convert.representative_samples, ctx.seed)
    return ConvertStage(target, ctx.convert.representative_samples, ctx.seed, ctx.versions)


def _vela(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    return VelaStage(target.profile.npu) if target.profile.npu is not None else None


def _measure(ctx: BuildContext, target: Target, upstream: Upstream) -> Stage | None:
    return MeasureStage(timing_threads(target.profile.latency.threads, describe_host()), ctx.versions)


PIPELINE: tuple[Step, ...] = (
    Step("data", _data, plan_runs=True),
    Step("fit", _fit, per_target=True, plan_runs=True),
    Step("model", _model_file, model="float"),
    Step("teacher", _teacher, model="float"),
    Step("soft_targets", _soft_targets),
    Step("distill", _training("distill"), model="float"),
    Step("prune", _training("prune"), model="float"),
    Step("cluster", _training("cluster"), model="float"),
    Step("qat", _training("qat"), model="quantized"),
    Step("export", _export, per_target=True),
    Step("convert", _convert, per_target=True),
    Step("vela", _vela, per_target=True),
    Step("measure", _measure, per_target=True),
)
_MODEL_KIND = {step.name: step.model for step in PIPELINE if step.model}


def model_stages(upstream: Upstream, kind: str | None = None) -> list[str]:
    """The stages in `upstream` whose result is a model (of `kind`), in pipeline order."""
    return [name for name in upstream.runs if _MODEL_KIND.get(name) and kind in (None, _MODEL_KIND[name])]


def conversion_source(target: Target, upstream: Upstream) -> str:
    """The model a target's precision converts: QAT's when the precision takes a quantized model
    (int8), else the last float one, since QAT's fake-quant nodes would quantize a float artifact."""
    if PRECISIONS.get(target.precision).converts_qat_model:
        return model_stages(upstream)[-1]
    return float_reference(upstream)


def float_reference(upstream: Upstream) -> str:
    """The last float model: what the artifact's accuracy drop is measured against."""
    return model_stages(upstream, "float")[-1]


@dataclass(frozen=True)
class Walked:
    """What a walk did: every target's runs, and each run with its step, in the order they were made."""

    runs: dict[str, Upstream]  # by profile name
    log: tuple[tuple[Step, Target, StageRun], ...]


def walk(ctx: BuildContext, *, dry: bool = False, until: str | None = None) -> Walked:
    """Run every step (through `until`) for every target; `dry`: compute keys and look them up."""
    runs = {target.name: Upstream() for target in ctx.targets}
    log: list[tuple[Step, Target, StageRun]] = []
    done: dict[tuple[str, str], tuple[StageRun, str]] = {}  # (step, key): a stage targets share runs once
    for step, target, stage in _stages(ctx, runs, until):
        upstream = runs[target.name]
        run = _step_run(ctx, step, target, stage, upstream, done, dry)
        runs[target.name] = upstream.plus(run)
        log.append((step, target, run))
    return Walked(runs, tuple(log))


def _stages(ctx: BuildContext, runs: dict[str, Upstream],
            until: str | None) -> Iterator[tuple[Step, Target, Stage]]:
    for step in PIPELINE:
        for target in ctx.targets:
            stage = step.make(ctx, target, runs[target.name])
            if stage is not None:
                yield step, target, stage
        if step.name == until:
            return


def _step_run(ctx: BuildContext, step: Step, target: Target, stage: Stage, upstream: Upstream,
              done: dict[tuple[str, str], tuple[StageRun, str]], dry: bool) -> StageRun:
    try:
        inputs = stage_inputs(stage, upstream, ctx.cache)
    except NotBuilt:  # a dry run: this key needs a result that only running an earlier stage gives
        return StageRun(step.name, None, {}, False, 0.0, None, built=False)
    key = cache_key(inputs)
    events = ctx.events.tagged(profile=target.name) if step.per_target else ctx.events
    if (step.name, key) in done:
        run, first_profile = done[step.name, key]
        if step.per_target:  # say so on this profile's lines: its conversion is another profile's
            events.emit("stage_shared", stage=step.name, key=key, shared_with=first_profile)
        return run
    scope = ctx.scope(step.name, target if step.per_target else None)
    if dry and not step.plan_runs:
        run = planned(stage, upstream, ctx.cache)
    else:
        run = run_cached(stage, upstream, ctx.cache, events, scope, inputs)
    done[step.name, key] = (run, target.name)
    return run
