"""Adding a stage is one module (here: this file), one line in the pipeline list and one config class.

The stage below is defined here, plugged into a copy of the pipeline, and then cached, planned and
keyed like every bundled stage, without touching another file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import PositiveInt

from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.models import StrictModel
from tiny_recipe import TINY_RECIPE


class PixelMeanConfig(StrictModel):  # the one config class
    decimals: PositiveInt = 3


@dataclass(frozen=True)
class PixelMeanStage(Stage[float]):  # the one module: the stage reads the prepared data's result
    config: PixelMeanConfig
    name = "pixel_mean"

    def key_inputs(self, upstream: Upstream) -> dict:
        return {"config": self.config.model_dump(), "upstream": {"data": upstream.key("data")}}

    def run(self, upstream: Upstream, scratch: Path) -> float:
        mean = round(float(upstream.output("data").x_train.mean()), self.config.decimals)
        (scratch / "mean.json").write_text(json.dumps(mean))
        return mean

    def load(self, upstream: Upstream, entry: Path) -> float:
        return json.loads((entry / "mean.json").read_text())


@pytest.fixture
def pipeline_with_the_stage(monkeypatch):
    from edgebuild.app import pipeline

    line = pipeline.Step("pixel_mean", lambda ctx, target, upstream: PixelMeanStage(PixelMeanConfig()))
    monkeypatch.setattr(pipeline, "PIPELINE", (pipeline.PIPELINE[0], line, *pipeline.PIPELINE[1:]))
    return pipeline


def test_a_stage_defined_outside_the_package_is_run_cached_and_planned(tmp_path, pipeline_with_the_stage):
    from edgebuild.app.build import recipe_context
    from edgebuild.app.plan import plan

    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(TINY_RECIPE)
    ctx = recipe_context(str(recipe), ["android-flagship"], cache_root=tmp_path / "cache")

    first = pipeline_with_the_stage.walk(ctx, until="pixel_mean").runs["android-flagship"].runs["pixel_mean"]
    again = pipeline_with_the_stage.walk(ctx, until="pixel_mean").runs["android-flagship"].runs["pixel_mean"]
    data = pipeline_with_the_stage.walk(ctx, until="data").runs["android-flagship"].output("data")
    assert not first.cached and again.cached and again.key == first.key
    assert again.output == first.output == round(float(data.x_train.mean()), 3)

    rows = {row.stage: row for row in plan(str(recipe), ["android-flagship"], cache_root=tmp_path / "cache")}
    assert rows["pixel_mean"].key == first.key and not rows["pixel_mean"].will_run
    assert rows["teacher"].will_run and rows["teacher"].reason == "never built"
