"""The digits ladder: predicted size against accuracy of each candidate built for real, and how
good every prediction `edgebuild fit` made was.

Run: python bench/fit_pareto.py   (15-25 minutes on 2 shared cores; needs matplotlib)
Each candidate of the bundled digits recipe becomes a one-student copy of the recipe, built by
`edgebuild build COPY --profile android-flagship --json` in a fresh process; one cache is shared,
so the teacher trains once. The copies' accuracy gates are opened (training is unchanged) so that
a small candidate that misses them still gets a report and a point on the plot. Also recorded:
the ladder's choice for every bundled profile, and the wall time of `edgebuild fit`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from common import RESULTS, save

RECIPE = "digits"
PROFILE = "android-flagship"
FIT_TIMINGS = 3
OPEN_GATES = {("distill", "max_accuracy_drop"): 1.0, ("prune", "max_accuracy_drop"): 1.0,
              ("qat", "max_accuracy_drop"): 1.0, ("verify", "min_accuracy"): 0.0,
              ("verify", "max_drop_from_float"): 1.0}


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
    from edgebuild.build import load_targets
    from edgebuild.toolchain.fit import NoCandidateFits, choose_student
    from edgebuild.toolchain.data import read_source

    recipe, recipe_path, targets = load_targets(RECIPE, ["all"])
    raw = read_source(recipe.data.source)
    input_shape = (*recipe.data.input_size, raw.images.shape[-1])
    choices = {}
    for target in targets:
        try:
            result = choose_student(recipe, recipe_path, target, input_shape, len(raw.class_names))
        except NoCandidateFits as nothing_fits:
            result = nothing_fits.result
        choices[target.profile.name] = {"chosen": result.chosen, "precision": result.precision,
                                        "candidates": [c.as_dict() for c in result.candidates]}
    return choices


def build_candidate(folder: Path, name: str, student: dict) -> dict:
    from edgebuild.recipe import load_recipe

    _, bundled = load_recipe(RECIPE)
    document = yaml.safe_load(bundled.read_text())
    document["student"] = student
    for (section, key), value in OPEN_GATES.items():
        document[section][key] = value
    recipe_path = folder / f"{name}.yaml"
    recipe_path.write_text(yaml.safe_dump(document, sort_keys=False))
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-m", "edgebuild", "build", recipe_path.name, "--profile", PROFILE,
                               "--out", f"out-{name}", "--json"], cwd=folder, capture_output=True, text=True,
                              env={**os.environ, "EDGEBUILD_CACHE": str(folder / "cache")})
    seconds = round(time.perf_counter() - started, 1)
    report_path = folder / f"out-{name}" / RECIPE / PROFILE / "report.json"
    if not report_path.is_file():
        raise SystemExit(f"build of {name} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return {"seconds": seconds, "exit_code": finished.returncode, "report": json.loads(report_path.read_text())}


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for point in points:
        axes.scatter(point["predicted_size_bytes"] / 1024, point["accuracy"], color="tab:blue")
        axes.annotate(point["student"], (point["predicted_size_bytes"] / 1024, point["accuracy"]),
                      textcoords="offset points", xytext=(6, -12))
    axes.set_xlabel(f"predicted int8 size, KiB ({PROFILE}, before training)")
    axes.set_ylabel("top-1 of the built int8 artifact (test split)")
    parameters = ", ".join(f"{point['student']} {point['parameters']}" for point in points)
    axes.set_title(f"digits student ladder (parameters: {parameters})")
    axes.margins(x=0.15, y=0.15)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> None:
    from edgebuild.toolchain.fit import fit_recipe, predicted_vs_measured

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
    plot(rows, RESULTS / "fit_pareto.png")
    path = save("fit_pareto", {
        "recipe": RECIPE, "profile": PROFILE, "chosen": result.chosen,
        "gates_opened_in_the_built_copies": {f"{s}.{k}": v for (s, k), v in OPEN_GATES.items()},
        "candidates": rows, "choice_per_profile": {name: c["chosen"] for name, c in choices.items()},
        "fit_wall_seconds": fit_seconds, "predictions_per_profile": choices,
        "plot": "fit_pareto.png",
    })
    print(path)


if __name__ == "__main__":
    main()
