"""Reading what a build did from its JSON-lines events, and what `plan` says it would do."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import run_edgebuild


def stages_run(stdout: str) -> set[str]:
    """Stages a `build --json` actually computed (not served from the cache)."""
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return {e["stage"] for e in events if e.get("event") == "stage_finished"}


def planned_runs(workspace: Path, recipe: str = "tiny.yaml") -> set[str]:
    result = run_edgebuild("plan", recipe, "--profile", "android-flagship", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    return {row["stage"] for row in json.loads(result.stdout) if row["will_run"]}
