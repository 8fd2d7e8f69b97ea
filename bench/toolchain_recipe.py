"""The build context the toolchain benchmarks train in: one student, even when the recipe offers a ladder."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path


def one_student_context(recipe_ref: str, student: str | None, cache_root: Path):
    """The recipe's build context (android-flagship, on `cache_root`), its student resolved: `student`
    names a ladder candidate; without it, a ladder's last candidate (the largest, which the digits
    build chooses on every bundled profile)."""
    from edgebuild.app.build import recipe_context
    from edgebuild.config.recipe import StudentLadder

    ctx = recipe_context(recipe_ref, ["android-flagship"], cache_root=cache_root)
    recipe = ctx.recipe
    if isinstance(recipe.student, StudentLadder):
        candidates = dict(zip(recipe.student.names(), recipe.student.students()))
        recipe = recipe.model_copy(update={"student": candidates[student or recipe.student.names()[-1]]})
    return replace(ctx, recipe=recipe)


def with_section(ctx, **sections):
    """The same context with recipe sections replaced (validated as a recipe file would be)."""
    recipe = ctx.recipe
    document = {**recipe.model_dump(mode="json", serialize_as_any=True), **sections}  # a student keeps its own fields
    return replace(ctx, recipe=type(recipe).model_validate(document))
