"""Shared fixtures: a tiny real recipe and one real build of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> Path:
    """One real end-to-end build of the tiny recipe, shared by the tests that read its outputs."""
    root = tmp_path_factory.mktemp("tiny_build")
    (root / "tiny.yaml").write_text(TINY_RECIPE)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root
