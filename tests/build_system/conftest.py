"""A warm cache of the tiny recipe, copied per test so tests never share mutable state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tiny_recipe import TINY_RECIPE


@pytest.fixture(scope="session")
def warm_cache(tiny_build) -> Path:
    return tiny_build / "cache"


@pytest.fixture
def workspace(tmp_path: Path, warm_cache: Path) -> Path:
    shutil.copytree(warm_cache, tmp_path / "cache")
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    return tmp_path
