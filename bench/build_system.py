"""Build-system benchmark: full build, conversion-only rebuild, no-change rebuild, 1 vs 3 profiles.

Run: python bench/build_system.py   (about 5 minutes on 2 cores)
Each build is a fresh `edgebuild build` process, timed from outside, as a user would see it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import save

RECIPE = "digits"
PROFILE = "android-flagship"


def timed_build(workdir: Path, cache: Path, recipe: str, profiles: list[str]) -> dict:
    argv = [sys.executable, "-m", "edgebuild", "build", recipe, "--out", "out", "--json"]
    for profile in profiles:
        argv += ["--profile", profile]
    started = time.perf_counter()
    finished = subprocess.run(argv, cwd=workdir, capture_output=True, text=True,
                              env={**os.environ, "EDGEBUILD_CACHE": str(cache)})
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"build failed ({finished.returncode}): {finished.stderr[-2000:]}")
    events = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    ran = sorted({e["stage"] for e in events if e.get("event") == "stage_finished"})
    return {"seconds": round(seconds, 2), "stages_run": ran, "profiles": profiles}


def plan_rows(workdir: Path, cache: Path, recipe: str, profiles: list[str]) -> list[dict]:
    """What `edgebuild plan` says a build would do, asked before that build."""
    argv = [sys.executable, "-m", "edgebuild", "plan", recipe, "--json"]
    for profile in profiles:
        argv += ["--profile", profile]
    finished = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, check=True,
                              env={**os.environ, "EDGEBUILD_CACHE": str(cache)})
    return json.loads(finished.stdout)


def plan_matches(rows: list[dict], ran: list[str]) -> bool:
    """The build ran what the plan said, except a stage whose key the plan could not know (key "-":
    the measurement when the conversion reruns), which the build may have reused."""
    planned = {row["stage"] for row in rows if row["will_run"]}
    unknowable = {row["stage"] for row in rows if row["will_run"] and row["key"] == "-" and row["stage"] != "verify"}
    return set(ran) <= planned and planned - set(ran) <= unknowable


def first_profiles(count: int) -> list[str]:
    listing = subprocess.run([sys.executable, "-m", "edgebuild", "profiles", "list"], capture_output=True,
                             text=True, check=True).stdout
    return [line.split("\t")[0] for line in listing.splitlines()][:count]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-") as scratch:
        root = Path(scratch)
        recipe_text = subprocess.run([sys.executable, "-m", "edgebuild", "recipes", "show", RECIPE],
                                     capture_output=True, text=True, check=True).stdout
        full = timed_build(root, root / "cache", RECIPE, [PROFILE])
        unchanged = timed_build(root, root / "cache", RECIPE, [PROFILE])
        changed = root / "fewer_samples.yaml"
        changed.write_text(recipe_text.replace("representative_samples: 200", "representative_samples: 100"))
        rows = plan_rows(root, root / "cache", str(changed), [PROFILE])
        conversion_only = timed_build(root, root / "cache", str(changed), [PROFILE])
        conversion_only["planned_runs"] = sorted({row["stage"] for row in rows if row["will_run"]})
        conversion_only["plan_matches"] = plan_matches(rows, conversion_only["stages_run"])
        three = first_profiles(3)
        matrix = timed_build(root, root / "cache-matrix", RECIPE, three)
    results = {
        "full_build": full, "no_change_rebuild": unchanged, "conversion_only_rebuild": conversion_only,
        "three_profiles_from_empty_cache": matrix,
        "conversion_only_share_of_full": round(conversion_only["seconds"] / full["seconds"], 3),
        "three_profiles_over_one": round(matrix["seconds"] / full["seconds"], 3),
        "targets": {"conversion_only_share_of_full": "<= 0.10", "three_profiles_over_one": "<= 1.3"},
    }
    print(json.dumps(results, indent=2))
    print(f"wrote {save('build_system', results)}")
    missed = [name for name, met in (("conversion_only_share_of_full", results["conversion_only_share_of_full"] <= 0.10),
                                     ("three_profiles_over_one", results["three_profiles_over_one"] <= 1.3),
                                     ("plan_matches", conversion_only["plan_matches"])) if not met]
    if missed:
        raise SystemExit(f"missed target(s): {', '.join(missed)}")


if __name__ == "__main__":
    main()
