"""Benchmark distillation: the same student, the same epochs, from scratch vs distilled.

    python bench/toolchain_distill.py [--recipe digits] [--seeds 0 1 2]

For each seed: train the recipe's teacher once, then the recipe's student three times with its
`distill` section, changing only `kind`: none (hard labels, from scratch), response (softened
logits, T and alpha from the recipe) and feature (response plus a 1x1-projected feature hint).
Each run starts from the same seed, so the students start from the same weights and see the
batches in the same order. Accuracies are top-1 of the float model on the held-out test split the
build gates on (and on all images, for reference). Writes bench/results/toolchain_distill.json.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

from common import save
from toolchain_recipe import one_student_context, with_section

KINDS = ("none", "response", "feature")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="digits")
    parser.add_argument("--student", default=None, help="a candidate of the recipe's student ladder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="toolchain-distill-") as cache:
        ctx = one_student_context(args.recipe, args.student, Path(cache))
        runs = [compare_kinds(ctx, seed) for seed in args.seeds]
    recipe = ctx.recipe
    path = save("toolchain_distill", {
        "recipe": recipe.name,
        "teacher": recipe.teacher.model_dump(mode="json"),
        "student": recipe.student.model_dump(mode="json"),
        "distill": recipe.distill.model_dump(mode="json", exclude={"kind"}),
        "seeds": args.seeds,
        "metric": "top-1 of the float student on the held-out test split",
        "runs": runs,
        "summary": summary(runs),
        "load_average": {"before": load_before, "after": os.getloadavg()},
    })
    print(path)


def compare_kinds(ctx, seed: int, kinds: tuple[str, ...] = KINDS) -> dict:
    """One seed: the same student trained through the pipeline once per distillation kind. The teacher
    (and its soft targets) are the same stage for every kind, so they train once and are then cached."""
    from edgebuild.app.pipeline import walk

    run: dict = {"seed": seed}
    for kind in kinds:  # each distill stage starts from the seed: the same initial student weights
        variant = with_section(replace(ctx, seed=seed), distill={**ctx.recipe.distill.model_dump(), "kind": kind})
        upstream = walk(variant, until="distill").runs["android-flagship"]
        teacher, student = upstream.output("teacher").metrics, upstream.output("distill").metrics
        run.setdefault("teacher", {"accuracy": teacher["accuracy"], "train_seconds": teacher["train_seconds"]})
        run[kind] = {"accuracy": student["accuracy"], "accuracy_all_data": student["accuracy_all_data"],
                     "train_seconds": student["train_seconds"]}
    return run


def summary(runs: list[dict], kinds: tuple[str, ...] = KINDS) -> dict:
    means = {}
    for kind in ("teacher", *kinds):
        values = [run[kind]["accuracy"] for run in runs]
        means[kind] = {"mean": statistics.mean(values), "std": statistics.pstdev(values)}
    for kind in (kind for kind in kinds if kind != "none"):
        gains = [run[kind]["accuracy"] - run["none"]["accuracy"] for run in runs]
        means[f"{kind}_minus_scratch_points"] = {"per_seed": [round(100 * g, 2) for g in gains],
                                                 "mean": round(100 * statistics.mean(gains), 2)}
    return means


if __name__ == "__main__":
    main()
