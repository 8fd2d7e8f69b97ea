"""`edgebuild plan`: the pipeline walked as a dry run — each stage's key, whether it is cached, and why
it would run.

Nothing is trained, converted or measured. The data is prepared and `fit` predicts (each only when
not cached): later keys depend on their results (the data's shape, the student each profile trains).
Their rows then say so and are not marked to run: the build that follows finds them cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from edgebuild.app.build import recipe_context
from edgebuild.app.pipeline import walk
from edgebuild.base.cache import changed_fields
from edgebuild.base.stage import StageRun

ALWAYS_RUNS = "always runs: its checks are recomputed; a byte-identical model's measurement is reused"


@dataclass(frozen=True)
class PlanRow:
    stage: str
    profile: str | None
    key: str
    will_run: bool
    reason: str


def plan(recipe_ref: str, profile_refs: Sequence[str], *, seed: int | None = None,
         cache_root: Path | None = None, strategy: str | None = None) -> list[PlanRow]:
    ctx = recipe_context(recipe_ref, profile_refs, seed=seed, cache_root=cache_root, strategy=strategy)
    built_before = ctx.cache.index.snapshot()
    rows: list[PlanRow] = []
    seen: set[tuple[str, str | None]] = set()
    for step, target, run in walk(ctx, dry=True).log:
        if (step.name, run.key) in seen and run.key is not None:
            continue  # a stage the profiles share is one row
        seen.add((step.name, run.key))
        profile = target.name if step.per_target else None
        before = ctx.cache.index.last_in(built_before, ctx.scope(step.name, target if step.per_target else None))
        reason = _reason(run, before)
        if step.plan_runs and not run.cached:  # computed just now: the build will find it cached
            rows.append(PlanRow(step.name, profile, run.key, False, f"computed by plan ({reason}): later keys need it"))
        else:
            rows.append(PlanRow(step.name, profile, run.key or "-", not run.cached, reason))
    rows += [PlanRow("verify", target.name, "-", True, ALWAYS_RUNS) for target in ctx.targets]
    return rows


def _reason(run: StageRun, before: dict | None) -> str:
    if run.key is None:
        return "runs after the stages it reads: its key depends on their results"
    if run.cached:
        return "cached"
    if before is None:
        return "never built"
    changed = changed_fields(before, run.inputs)
    if changed and all(field.startswith("upstream.") for field in changed):
        return "an upstream stage changed: " + ", ".join(field.removeprefix("upstream.") for field in changed)
    if not changed:
        return "cache entry missing or damaged"
    return "changed: " + ", ".join(changed)

