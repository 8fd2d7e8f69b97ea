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
import time

from common import save
from toolchain_recipe import one_student_recipe

from edgebuild import tfenv

KINDS = ("none", "response", "feature")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="digits")
    parser.add_argument("--student", default=None, help="a candidate of the recipe's student ladder")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()

    recipe, base_dir = one_student_recipe(args.recipe, args.student)
    load_before = os.getloadavg()
    runs = [compare_kinds(recipe, base_dir, seed) for seed in args.seeds]
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


def compare_kinds(recipe, base_dir, seed: int, kinds: tuple[str, ...] = KINDS) -> dict:
    """One seed: the teacher once, then the same student distilled with each of `kinds`."""
    from edgebuild.events import Events
    from edgebuild.toolchain import distill, teacher
    from edgebuild.toolchain.data import load_dataset
    from edgebuild.toolchain.stage import StageContext, Upstream
    from edgebuild.toolchain.training import accuracy

    tfenv.tensorflow(seed)
    data = recipe.data
    dataset = load_dataset(data.source, data.input_size, validation_fraction=data.validation_fraction,
                           test_fraction=data.test_fraction, seed=seed, base_dir=base_dir)
    ctx = StageContext(recipe, dataset, seed, Events(), base_dir)
    trained_teacher, teacher_seconds = _timed(lambda: teacher.train(ctx, Upstream()))
    run = {"seed": seed, "teacher": {"accuracy": accuracy(trained_teacher, dataset.x_test, dataset.y_test),
                                     "train_seconds": teacher_seconds}}
    for kind in kinds:  # each distill.train starts from the seed: the same initial student weights
        variant = recipe.model_copy(update={"distill": recipe.distill.model_copy(update={"kind": kind})})
        student_ctx = StageContext(variant, dataset, seed, Events(), base_dir)
        student, seconds = _timed(lambda: distill.train(student_ctx, Upstream(teacher=trained_teacher)))
        run[kind] = {"accuracy": accuracy(student, dataset.x_test, dataset.y_test),
                     "accuracy_all_data": accuracy(student, dataset.x_all, dataset.y_all), "train_seconds": seconds}
    return run


def _timed(work):
    started = time.perf_counter()
    result = work()
    return result, round(time.perf_counter() - started, 2)


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
