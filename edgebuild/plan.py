"""`edgebuild plan`: the stage graph, what is cached, what would run and which input changed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebuild.build import choose_students, conversion_scope, load_targets


@dataclass(frozen=True)
class PlanRow:
    stage: str
    profile: str | None
    key: str
    will_run: bool
    reason: str


def plan(recipe_ref: str, profile_refs: list[str], *, seed: int | None = None,
         cache_root: Path | None = None, strategy: str | None = None) -> list[PlanRow]:
    from edgebuild.converters.artifact import conversion_inputs
    from edgebuild.tfenv import tool_versions
    from edgebuild.toolchain.cache import StageCache, cache_key, default_cache_root
    from edgebuild.toolchain.data import read_source
    from edgebuild.toolchain.pipeline import conversion_source, plan_training

    recipe, recipe_path, targets = load_targets(recipe_ref, profile_refs)
    seed = recipe.seed if seed is None else seed
    raw = read_source(recipe.data.source, recipe_path.parent)
    input_shape = (*recipe.data.input_size, raw.images.shape[-1])
    versions = tool_versions()
    cache = StageCache(cache_root or default_cache_root())
    rows = _fit_rows(cache, recipe, targets, input_shape, len(raw.class_names), versions)
    fits = choose_students(recipe, recipe_path, targets, input_shape, len(raw.class_names), cache, versions)
    for target, fit in zip(targets, fits):
        student_recipe = recipe.model_copy(update={"student": fit.student if fit else recipe.student})
        planned = plan_training(student_recipe, raw.sha256, seed, versions, recipe_path.parent,
                                strategy or recipe.strategy)
        rows += [_row(cache, p.stage.name, None, p.key, p.inputs, f"{recipe.name}/{p.stage.name}")
                 for p in planned if p.key not in {row.key for row in rows}]
        keys = {p.stage.name: p.key for p in planned}
        source = conversion_source(target.precision, list(keys))
        inputs = conversion_inputs(keys[source], target.precision, target.io_dtype,
                                   recipe.convert.representative_samples, seed, versions)
        rows.append(_row(cache, "convert", target.profile.name, cache_key(inputs), inputs,
                         conversion_scope(recipe.name, target.profile.name)))
        rows.append(PlanRow("verify", target.profile.name, "-", True,
                            "always runs: its checks are recomputed; a byte-identical model's measurement is reused"))
    return rows


def _fit_rows(cache, recipe, targets, input_shape, num_classes: int, versions: dict) -> list[PlanRow]:
    """A row per profile for a recipe with a student ladder; read before `choose_students` fills the cache."""
    from edgebuild.recipe import StudentLadder
    from edgebuild.toolchain.cache import cache_key
    from edgebuild.toolchain.fit_cache import fit_inputs, fit_scope

    if not isinstance(recipe.student, StudentLadder):
        return []
    rows = []
    for target in targets:
        inputs = fit_inputs(recipe, target, input_shape, num_classes, versions)
        rows.append(_row(cache, "fit", target.profile.name, cache_key(inputs), inputs,
                         fit_scope(recipe.name, target.profile.name)))
    return rows


def _row(cache, stage: str, profile: str | None, key: str, inputs: dict, scope: str) -> PlanRow:
    from edgebuild.toolchain.cache import changed_fields

    if cache.lookup(key) is not None:
        return PlanRow(stage, profile, key, False, "cached")
    before = cache.index.last(scope)
    if before is None:
        return PlanRow(stage, profile, key, True, "never built")
    changed = changed_fields(before, inputs)
    if changed == ["upstream"]:
        return PlanRow(stage, profile, key, True, "an upstream stage changed")
    if not changed:
        return PlanRow(stage, profile, key, True, "cache entry missing or damaged")
    return PlanRow(stage, profile, key, True, "changed: " + ", ".join(changed))
