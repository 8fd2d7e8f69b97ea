"""`edgebuild build` as an API: recipe × profiles → verified artifacts and reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgebuild.app.fit import FitResult, FitStage
from edgebuild.app.pipeline import walk
from edgebuild.app.precision_search import publish_searched
from edgebuild.app.publish import ProfileResult, check_writable_folders
from edgebuild.base.cache import StageCache, default_cache_root
from edgebuild.base.events import Events
from edgebuild.base.stage import run_cached
from edgebuild.base.tfenv import tool_versions
from edgebuild.config.recipe import recipe_sha256
from edgebuild.config.targets import load_targets
from edgebuild.toolchain import distribute
from edgebuild.toolchain.context import BuildContext
from edgebuild.verify.device import DeviceRun


def recipe_context(recipe_ref: str, profile_refs: Sequence[str], *, seed: int | None = None,
                   cache_root: Path | None = None, strategy: str | None = None,
                   events: Events = Events()) -> BuildContext:
    """The recipe and every profile validated, as `build`, `plan` and `fit` all need them first."""
    recipe, recipe_path, targets = load_targets(recipe_ref, profile_refs)
    distribute.check_strategy(strategy or recipe.strategy)
    seed = recipe.seed if seed is None else seed
    return BuildContext(name=recipe.name, source_kind="recipe", source_path=recipe_path, recipe=recipe,
                        data=recipe.data, convert=recipe.convert, verify=recipe.verify, targets=targets,
                        cache=StageCache(cache_root or default_cache_root()), versions=tool_versions(),
                        events=events, seed=seed, base_dir=recipe_path.parent,
                        inputs={"recipe_sha256": recipe_sha256(recipe_path), "seed": seed},
                        strategy_name=strategy or recipe.strategy)


def build(recipe_ref: str, profile_refs: Sequence[str], out_root: Path, *, seed: int | None = None,
          cache_root: Path | None = None, strategy: str | None = None, device_run: DeviceRun | None = None,
          events: Events = Events()) -> list[ProfileResult]:
    """Validate everything first, train once, then convert and verify for each profile."""
    ctx = recipe_context(recipe_ref, profile_refs, seed=seed, cache_root=cache_root, strategy=strategy,
                         events=events)
    # Before any TensorFlow op runs: splitting the CPU into logical devices must come first.
    tf_strategy = distribute.make_strategy(ctx.strategy_name) if ctx.strategy_name != "default" else None
    out_root = distribute.worker_scratch(out_root)
    ctx = ctx.with_cache(StageCache(distribute.worker_scratch(ctx.cache.root)), tf_strategy)
    check_writable_folders(out_root, ctx.cache.root)
    walked = walk(ctx)
    return [publish_searched(ctx, target, walked.runs[target.name], out_root, device_run) for target in ctx.targets]


def fit_recipe(recipe_ref: str, profile_ref: str, *, cache_root: Path | None = None) -> tuple[FitResult, Path]:
    """`edgebuild fit`: the data prepared, then every candidate's (or the one student's) artifact for the
    profile, predicted before any training; and the recipe's path. Raises NoCandidateFits (exit 1, its
    `result` holding every candidate) when `choose: auto` finds none that fits."""
    ctx = recipe_context(recipe_ref, [profile_ref], cache_root=cache_root)
    target = ctx.targets[0]
    upstream = walk(ctx, until="fit").runs[target.name]
    if "fit" not in upstream:  # one student: the build has no fit step, the question still has an answer
        stage = FitStage(ctx.recipe, ctx.source_path, target, ctx.versions)
        upstream = upstream.plus(run_cached(stage, upstream, ctx.cache, ctx.events, ctx.scope("fit", target)))
    return upstream.output("fit"), ctx.source_path
