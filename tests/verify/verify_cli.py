"""`edgebuild verify` run as a user runs it, with short timing, and its JSON report read back."""

from __future__ import annotations

import json
from pathlib import Path

from cli_runner import CliResult, run_edgebuild

# Short timing keeps each call near a second; the defaults (50 runs, 1 s) are tested once.
QUICK_TIMING = ("--runs", "5", "--min-seconds", "0.05")


def verify(model: Path, profile: str, *extra: str, cwd: Path) -> CliResult:
    return run_edgebuild("verify", str(model), "--profile", profile, *QUICK_TIMING, *extra, cwd=cwd)


def report_of(result: CliResult) -> dict:
    """The report of a `verify --json` run: stdout must hold that JSON and nothing else."""
    return json.loads(result.stdout)


def checks_by_name(report: dict) -> dict[str, dict]:
    return {check["name"]: check for check in report["checks"]}


def checks_of(result: CliResult) -> dict[str, dict]:
    return checks_by_name(report_of(result))
