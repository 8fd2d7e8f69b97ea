"""Reliability cases run the real CLI in a child whose TMPDIR is a folder of the case's own, so each
case can check that nothing was left behind there either; faults start from a copy of a warm cache."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# The toolchain tests' helpers (tiny recipe variants, digit image folders), also when this folder runs alone.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "toolchain"))

from reliability_checks import TMPDIR_NAME
from tiny_recipe import TINY_RECIPE


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / TMPDIR_NAME
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))  # run_edgebuild passes the environment on to the child
    return folder


@pytest.fixture
def warm_workspace(tmp_path: Path, tiny_build: Path) -> Callable[..., Path]:
    """`warm_workspace(*stages)`: tiny.yaml and a copy of the tiny build's cache without those stages'
    entries, so a build recomputes only them (stage keys hash inputs, not outputs)."""

    def make(*stages: str) -> Path:
        cache = tmp_path / "cache"
        shutil.copytree(tiny_build / "cache", cache)
        for manifest in cache.glob("??/*/manifest.json"):
            if json.loads(manifest.read_text())["stage"] in stages:
                shutil.rmtree(manifest.parent)
        (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
        return tmp_path

    return make
