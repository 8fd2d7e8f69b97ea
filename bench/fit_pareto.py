"""The digits ladder: predicted size against accuracy of each candidate built for real, and how
good every prediction `edgebuild fit` made was.

Run: python bench/fit_pareto.py   (15-25 minutes on 2 shared cores)
Each candidate of the bundled digits recipe becomes a one-student copy of the recipe, built by
`edgebuild build COPY --profile android-flagship --json` in a fresh process; one cache is shared,
so the teacher trains once. The copies' accuracy gates are opened (training is unchanged) so that
a small candidate that misses them still gets a report and a point on the plot. Also recorded:
the ladder's choice for every bundled profile, and the wall time of `edgebuild fit`.
Writes bench/results/fit_pareto.json; bench/plots.py draws fit_pareto.png from it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import save
from recipe_builds import OPEN_GATES, PROFILE, RECIPE, recipe_copy, timed_build

FIT_TIMINGS = 3


def fit_wall_seconds() -> dict:
    """`edgebuild fit digits --profile android-flagship` as a user runs it, in fresh processes."""
    seconds = []
    for _ in range(FIT_TIMINGS):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "edgebuild", "fit", RECIPE, "--profile", PROFILE], check=True,
                       capture_output=True)
        seconds.append(round(time.perf_counter() - started, 2))
    return {"runs": seconds, "median": statistics.median(seconds), "load_average_1min": os.getloadavg()[0]}


def choices_per_profile() -> dict:
    from edgebuild.app.build import recipe_context
    from edgebuild.app.fit import predict_fit
    from edgebuild.app.pipeline import walk

    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-") as cache:
        ctx = recipe_context(RECIPE, ["all"], cache_root=Path(cache))
        dataset = walk(ctx, until="data").runs[ctx.targets[0].name].output("data")
    choices = {}
    for target in ctx.targets:
        result = predict_fit(ctx.recipe, target, dataset.input_shape, dataset.num_classes, ctx.versions)
        choices[target.profile.name] = {"chosen": result.chosen, "precision": result.precision,
                                        "candidates": [c.as_dict() for c in result.candidates]}
    return choices


def build_candidate(folder: Path, name: str, student: dict) -> dict:
    recipe = recipe_copy(folder / f"{name}.yaml", {"student": student})
    # Exit 1 (a budget missed) still leaves a report and a point; only a build without one stops the run.
    return timed_build(folder, recipe.name, f"out-{name}", folder / "cache", ok_codes=(0, 1))


def main() -> None:
    from edgebuild.app.build import fit_recipe
    from edgebuild.app.fit import predicted_vs_measured

    fit_seconds = fit_wall_seconds()
    choices = choices_per_profile()
    result, _ = fit_recipe(RECIPE, PROFILE)
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-") as scratch:
        for candidate in result.candidates:
            built = build_candidate(Path(scratch), candidate.name, candidate.student.model_dump(mode="json"))
            report = built["report"]
            rows.append({"student": candidate.name, "parameters": candidate.predicted.parameters,
                         "predicted_size_bytes": candidate.predicted.size_bytes,
                         "accuracy": report["accuracy"]["artifact"],
                         "float_student_accuracy": report["accuracy"]["float_student"],
                         "gate_passed": report["passed"], "build_seconds": built["seconds"],
                         "predicted_vs_measured": predicted_vs_measured(candidate.predicted, report)})
    path = save("fit_pareto", {
        "recipe": RECIPE, "profile": PROFILE, "chosen": result.chosen,
        "gates_opened_in_the_built_copies": OPEN_GATES,
        "candidates": rows, "choice_per_profile": {name: c["chosen"] for name, c in choices.items()},
        "fit_wall_seconds": fit_seconds, "predictions_per_profile": choices,
    })
    print(path)


if __name__ == "__main__":
    main()
