"""The recipe the toolchain benchmarks train: one student, even when the recipe offers a ladder."""

from __future__ import annotations

from pathlib import Path


def one_student_recipe(recipe_ref: str, student: str | None):
    """The recipe and its folder, its student resolved: `student` names a ladder candidate; without
    it, a ladder's last candidate (the largest, which the digits build chooses on every bundled profile)."""
    from edgebuild.recipe import StudentLadder, load_recipe, resolved_student

    recipe, path = load_recipe(recipe_ref)
    if isinstance(recipe.student, StudentLadder) or student is not None:
        chosen = student or recipe.student.candidates[-1].name
        recipe = recipe.model_copy(update={"student": resolved_student(recipe, chosen)})
    return recipe, Path(path).parent
