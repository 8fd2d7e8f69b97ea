"""The one context a build passes down, and what a training stage receives, both free of TensorFlow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from edgebuild.base.cache import StageCache
from edgebuild.base.errors import BadInput
from edgebuild.base.events import Events
from edgebuild.base.stage import Upstream
from edgebuild.config.recipe import ConvertConfig, DataConfig, Recipe, VerifyConfig
from edgebuild.config.students import StudentConfig
from edgebuild.config.targets import Target
from edgebuild.toolchain.datasets import Dataset


@dataclass(frozen=True)
class ModelFile:
    """A model file the user trained, loaded at most once (its input size is read off it first)."""

    path: Path  # for PyTorch, also a `package.module:factory` reference
    load: Callable[[], Any]
    field: str = "MODEL"  # what errors about it name: the CLI argument or the recipe field
    data_label: str = "--data"  # what errors call the data it is measured on
    framework: str = "keras"  # or "torch": its own model and convert stages, no export


@dataclass(frozen=True)
class BuildContext:
    """What every step of one build (or one `convert`) may read, set once before any work."""

    name: str  # the recipe's name, or the model file's stem: it names OUT/<name>/<profile>/
    source_kind: str  # "recipe" or "model": the report's and the metadata's key for `name`
    source_path: Path  # the recipe file, or the model file
    recipe: Recipe | None  # None when converting a model the user trained
    data: DataConfig
    convert: ConvertConfig
    verify: VerifyConfig
    targets: tuple[Target, ...]
    cache: StageCache
    versions: dict[str, str]
    events: Events
    seed: int
    base_dir: Path  # relative paths in the recipe resolve against its folder
    inputs: dict[str, Any]  # sha256 of the recipe (or model) and the seed: provenance
    data_flag: str = "data.source"  # what errors about the data name: the recipe field or `--data`
    model_file: ModelFile | None = None  # the model `edgebuild convert` was given
    strategy_name: str = "default"
    strategy: Any = None  # a tf.distribute strategy; None = TensorFlow's default

    def with_cache(self, cache: StageCache, strategy: Any) -> BuildContext:
        """The same build on another cache (a worker's own), under a tf.distribute strategy."""
        return replace(self, cache=cache, strategy=strategy)

    def scope(self, stage: str, target: Target | None = None) -> str:
        """What `plan` calls a stage's last build: one per recipe, stage and (for per-profile steps) profile."""
        return f"{self.name}/{stage}" + (f"/{target.name}" if target else "")


def training_versions(versions: dict[str, str]) -> dict[str, str]:
    """The versions that change what a stage computes (not Python's or edgebuild's own)."""
    return {name: version for name, version in versions.items() if name not in ("python", "edgebuild")}


@dataclass(frozen=True)
class TrainingJob:
    """What a training stage module reads: train(job) -> model, restore(job, folder) -> model."""

    ctx: BuildContext
    student: StudentConfig | None  # None for the teacher
    upstream: Upstream
    previous: str | None  # the stage whose model this one starts from (None for the teacher)

    @property
    def recipe(self) -> Recipe:
        return self.ctx.recipe

    @property
    def dataset(self) -> Dataset:
        return self.upstream.output("data")

    @property
    def seed(self) -> int:
        return self.ctx.seed

    @property
    def events(self) -> Events:
        return self.ctx.events

    def previous_model(self):
        """The Keras model the stage before this one left."""
        return self.upstream.output(self.previous).load()

    def output(self, stage: str) -> Any:
        return self.upstream.output(stage)


def student_of(ctx: BuildContext, upstream: Upstream) -> StudentConfig:
    """The student a target trains: `fit`'s choice for a ladder, else the recipe's one student."""
    if "fit" in upstream:
        return upstream.output("fit").student
    return ctx.recipe.student


def teacher_file(recipe: Recipe, base_dir: Path) -> Path | None:
    """The user's teacher file, resolved against the recipe's folder; its bytes go into the cache key."""
    path = recipe.teacher.path
    if path is None:
        return None
    resolved = Path(path) if Path(path).is_absolute() else base_dir / path
    if not resolved.exists():
        raise BadInput(f"teacher.path: {resolved}: file not found (expected a .keras, .tflite, .h5 or SavedModel)")
    return resolved
