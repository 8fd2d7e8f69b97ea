"""Same recipe, profile and seed, two fresh processes with empty caches: the same bytes.

Two tiny builds take one to two minutes on a shared 2-core machine, so this runs with the slow
tests; test_convert_command checks the export → convert → metadata half in every run.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE


@pytest.mark.slow
def test_two_fresh_builds_with_seed_7_are_byte_identical(tmp_path):
    artifacts, reports = [], []
    for name in ("first", "second"):
        root = tmp_path / name
        root.mkdir()
        (root / "tiny.yaml").write_text(TINY_RECIPE)
        result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--seed", "7", "--out", "out",
                               "--quiet", cwd=root, cache=root / "cache")
        assert result.returncode == 0, result.stderr[-2000:]
        folder = root / "out" / "tiny" / "android-flagship"
        artifacts.append((folder / "model.tflite").read_bytes())
        reports.append(json.loads((folder / "report.json").read_text()))

    assert artifacts[0] == artifacts[1]
    sha256 = hashlib.sha256(artifacts[0]).hexdigest()
    assert reports[0]["artifact"]["sha256"] == reports[1]["artifact"]["sha256"] == sha256
    assert reports[0]["inputs"]["seed"] == 7
    assert str(tmp_path).encode() not in artifacts[0]
