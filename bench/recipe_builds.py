"""Builds of the bundled digits recipe and of copies of it with a few settings changed, each one
`edgebuild build` in a fresh process, timed from outside as a user would see it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

RECIPE = "digits"
PROFILE = "android-flagship"
# Opened in every copy (training is unchanged), so that a weaker variant still gets a report and a
# point on a plot instead of a build stopped at its first accuracy gate.
OPEN_GATES = {"distill.max_accuracy_drop": 1.0, "prune.max_accuracy_drop": 1.0, "qat.max_accuracy_drop": 1.0,
              "verify.min_accuracy": 0.0, "verify.max_drop_from_float": 1.0}


def recipe_copy(path: Path, settings: dict[str, Any]) -> Path:
    """Writes the bundled recipe to `path` with `settings` (dotted keys: `data.source`, `student`)
    and OPEN_GATES applied; the copy keeps the name, so its report lands where the bundled one's does."""
    from edgebuild.config.recipe import load_recipe

    _, bundled = load_recipe(RECIPE)
    document = yaml.safe_load(bundled.read_text())
    for dotted_key, value in {**OPEN_GATES, **settings}.items():
        *sections, key = dotted_key.split(".")
        section = document
        for name in sections:
            section = section[name]
        section[key] = value
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def timed_build(folder: Path, recipe: str, out: str, cache: Path, ok_codes: tuple[int, ...] = (0,)) -> dict:
    """`edgebuild build RECIPE --profile PROFILE --out OUT --json` run in `folder` with EDGEBUILD_CACHE
    `cache`: its wall seconds, exit code, load average and report. SystemExit when the exit code is
    not in `ok_codes` or no report was written."""
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-m", "edgebuild", "build", recipe, "--profile", PROFILE,
                               "--out", out, "--json"], cwd=folder, capture_output=True, text=True,
                              env={**os.environ, "EDGEBUILD_CACHE": str(cache)})
    seconds = round(time.perf_counter() - started, 1)
    report_path = folder / out / RECIPE / PROFILE / "report.json"
    if finished.returncode not in ok_codes or not report_path.is_file():
        raise SystemExit(f"build of {recipe} failed ({finished.returncode}): {finished.stderr[-2000:]}")
    return {"seconds": seconds, "exit_code": finished.returncode,
            "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
            "report": json.loads(report_path.read_text())}
