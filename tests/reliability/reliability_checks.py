"""What every reliability case asserts besides the exit code and the one `error:` line: nothing was
left behind — no output, no cache entry, no temp or partial file, nothing in the child's TMPDIR."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from build_system_helpers import held_locks
from cli_runner import CliResult, assert_one_line_error

TMPDIR_NAME = "tmpdir"  # the child's TMPDIR inside the case's folder (see conftest.py)
TINY_BUILD = ("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out")


def leftovers(root: Path) -> list[str]:
    """Temp and partial files or folders anywhere under `root`, and whatever is in its TMPDIR."""
    found = [p for p in root.rglob("*") if ".tmp" in p.name or p.name.endswith(".partial")]
    tmpdir = root / TMPDIR_NAME
    found += list(tmpdir.iterdir()) if tmpdir.is_dir() else []
    return sorted(str(p.relative_to(root)) for p in found)


def cache_entries(cache: Path) -> list[Path]:
    """Stage outputs in the cache; the prepared data (stage "data") is stored once read, before any stage."""
    return sorted(manifest.parent for manifest in cache.glob("??/*/manifest.json")
                  if json.loads(manifest.read_text())["stage"] != "data")


def artifacts(out: Path) -> list[Path]:
    return sorted(out.rglob("model.tflite")) if out.exists() else []


def assert_refused(result: CliResult, code: int, *fragments: str, root: Path) -> None:
    """Refused in one line naming the culprit, before anything was trained or written."""
    assert_one_line_error(result, code, *fragments)
    assert not (root / "out").exists(), "an output folder was created for a refused build"
    assert cache_entries(root / "cache") == [], "a stage ran although the input was refused"
    assert leftovers(root) == []


def assert_interrupted(result: CliResult, root: Path, code: int = 130) -> None:
    """Ctrl-C (130), SIGTERM (143), SIGHUP (129): that exit code, one line saying so, no artifact,
    nothing half-written and no lock held."""
    assert result.returncode == code, result.stderr[-3000:]
    assert "Traceback" not in result.stderr + result.stdout
    assert "interrupted" in result.stderr
    assert artifacts(root / "out") == []
    assert leftovers(root) == []
    assert held_locks(root / "cache") == []


def start_edgebuild(*args: str, cwd: Path, cache: Path | None = None) -> subprocess.Popen:
    """The CLI as a child whose JSON-lines events a test reads while it runs (to interrupt it)."""
    env = {**os.environ, "EDGEBUILD_CACHE": str(cache or cwd / "cache")}
    return subprocess.Popen([sys.executable, "-m", "edgebuild", *args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
