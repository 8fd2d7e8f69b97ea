"""Tiny recipe variants trained in this process through the real pipeline and converted with the real
converter: the toolchain tests assert on the models and artifacts these make."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tiny_recipe import TINY_RECIPE

CLUSTERS = 6
CLUSTER = {"number_of_clusters": CLUSTERS, "centroid_init": "kmeans_plus_plus",
           "training": {"epochs": 2, "batch_size": 64, "learning_rate": 0.001}, "max_accuracy_drop": 0.2}
TWO_BY_FOUR = {"m_by_n": [2, 4], "training": {"epochs": 3, "batch_size": 64, "learning_rate": 0.002},
               "max_accuracy_drop": 0.2}


@dataclass(frozen=True)
class TinyBuild:
    folder: Path  # the recipe and the SavedModel
    cache: Path
    recipe: Any
    upstream: Any  # base.stage.Upstream: every step's run for the one target
    int8_bytes: bytes | None

    @property
    def dataset(self):
        return self.upstream.output("data")

    @property
    def trained(self) -> list:
        """The runs of the stages that made a model, in pipeline order."""
        from edgebuild.app.pipeline import model_stages

        return [self.upstream.runs[name] for name in model_stages(self.upstream)]

    def metrics(self, stage: str) -> dict:
        return self.upstream.output(stage).metrics

    def model(self, stage: str):
        return self.upstream.output(stage).load()


def tiny_recipe_text(**sections: Any) -> str:
    """TINY_RECIPE with whole top-level sections replaced; a None value removes the section."""
    document = yaml.safe_load(TINY_RECIPE)
    document.update(sections)
    return yaml.safe_dump({key: value for key, value in document.items() if value is not None}, sort_keys=False)


def write_recipe(folder: Path, **sections: Any) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(tiny_recipe_text(**sections))
    return path


def train_tiny(folder: Path, cache: Path, *, convert: bool = True, **sections: Any) -> TinyBuild:
    """Train every stage of a tiny recipe variant through the pipeline and, if asked, convert it to full int8."""
    from edgebuild.app.build import recipe_context
    from edgebuild.app.pipeline import walk

    path = write_recipe(folder, **sections)
    ctx = recipe_context(str(path), ["android-flagship"], cache_root=cache)
    upstream = walk(ctx, until="qat").runs["android-flagship"]
    int8_bytes = int8_artifact(ctx.targets[0], upstream, folder) if convert else None
    return TinyBuild(folder, cache, ctx.recipe, upstream, int8_bytes)


def int8_artifact(target, upstream, folder: Path) -> bytes:
    from edgebuild.app.pipeline import conversion_source
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert, representative_images

    model = upstream.output(conversion_source(target, upstream)).load()
    saved_model = folder / "saved_model"
    export_saved_model(model, saved_model)
    return convert(saved_model, "int8", "int8", representative_images(upstream.output("data").x_train, 50, 0))


def training_job(recipe_path: Path, dataset, *, with_student: bool = True, **outputs: Any):
    """A TrainingJob for calling a training module directly, on the recipe's own context."""
    from edgebuild.app.build import recipe_context
    from edgebuild.toolchain.training_stage import standalone_job

    ctx = recipe_context(str(recipe_path), ["android-flagship"], cache_root=recipe_path.parent / "cache")
    return standalone_job(ctx, dataset, ctx.recipe.student if with_student else None, **outputs)
