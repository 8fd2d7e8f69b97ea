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
    dataset: Any
    trained: Any  # pipeline.TrainedModels
    int8_bytes: bytes | None

    def metrics(self, stage: str) -> dict:
        return self.trained.outcome(stage).metrics


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
    """Train every stage of a tiny recipe variant and, if asked, convert it to full int8."""
    from edgebuild import tfenv
    from edgebuild.recipe import load_recipe
    from edgebuild.toolchain import pipeline
    from edgebuild.toolchain.cache import StageCache
    from edgebuild.toolchain.data import load_dataset
    from edgebuild.toolchain.stage import StageContext
    from edgebuild.events import Events

    recipe, path = load_recipe(str(write_recipe(folder, **sections)))
    tfenv.tensorflow(recipe.seed)
    data = recipe.data
    dataset = load_dataset(data.source, data.input_size, validation_fraction=data.validation_fraction,
                           test_fraction=data.test_fraction, seed=recipe.seed)
    ctx = StageContext(recipe, dataset, recipe.seed, Events(), path.parent)
    trained = pipeline.run_training(ctx, StageCache(cache), tfenv.tool_versions())
    int8_bytes = int8_artifact(trained, dataset, folder) if convert else None
    return TinyBuild(folder, cache, recipe, dataset, trained, int8_bytes)


def int8_artifact(trained, dataset, folder: Path) -> bytes:
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.tflite import convert, representative_images
    from edgebuild.toolchain.pipeline import conversion_source

    model = trained.models[conversion_source("int8", list(trained.models))]()
    saved_model = folder / "saved_model"
    export_saved_model(model, saved_model)
    return convert(saved_model, "int8", "int8", representative_images(dataset.x_train, 50, 0))
