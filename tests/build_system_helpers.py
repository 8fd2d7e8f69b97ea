"""Reading what a build did from its JSON-lines events, what `plan` says it would do, and which cache
locks are still held."""

from __future__ import annotations

import json
from pathlib import Path

from filelock import FileLock, Timeout

from cli_runner import run_edgebuild


def stages_run(stdout: str) -> set[str]:
    """Stages a `build --json` actually computed (not served from the cache)."""
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {e["stage"] for e in events if e.get("event") == "stage_finished"}


def plan_rows(workspace: Path, recipe: str = "tiny.yaml") -> list[dict]:
    result = run_edgebuild("plan", recipe, "--profile", "android-flagship", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def planned_runs(workspace: Path, recipe: str = "tiny.yaml") -> set[str]:
    return {row["stage"] for row in plan_rows(workspace, recipe) if row["will_run"]}


def assert_plan_matches(rows: list[dict], ran: set[str]) -> None:
    """The build ran what `plan` said, except a stage whose key the plan could not know (`key` "-":
    the measurement, when the conversion reruns), which may have been reused."""
    planned = {row["stage"] for row in rows if row["will_run"]}
    unknowable = {row["stage"] for row in rows if row["will_run"] and row["key"] == "-" and row["stage"] != "verify"}
    assert ran <= planned and planned - ran <= unknowable, (planned, ran)


def held_locks(cache: Path) -> list[Path]:
    """Cache lock files some process still holds (the files themselves stay, unheld, by design)."""
    held = []
    for path in sorted(cache.glob("??/*.lock")):
        try:
            with FileLock(str(path), timeout=0):
                pass
        except Timeout:
            held.append(path)
    return held
