"""Run the CLI the way a user does (a child process) and check its errors."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


def run_edgebuild(*args: str, cwd: Path, cache: Path | None = None, timeout: float = 900,
                  preexec_fn: Callable[[], None] | None = None, env: dict[str, str] | None = None) -> CliResult:
    """`preexec_fn` runs in the child before edgebuild starts (resource limits, signal dispositions);
    `env` replaces the environment (EDGEBUILD_CACHE is set either way)."""
    env = {**(env or os.environ), "EDGEBUILD_CACHE": str(cache or cwd / "cache")}
    finished = subprocess.run([sys.executable, "-m", "edgebuild", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, preexec_fn=preexec_fn)
    return CliResult(finished.returncode, finished.stdout, finished.stderr)


def assert_one_line_error(result: CliResult, code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in error_lines[0]
