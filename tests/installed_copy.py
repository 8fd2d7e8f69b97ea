"""A copy of the installed package, laid out as installed, that a test may edit: a child process
with PYTHONPATH pointing at it imports the copy (sys.path comes before the installed package)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

# Top-level packages of the installed layout, each copied from wherever it is installed.
_PACKAGES = ("edgebuild", "edgebuild.toolchain", "edgebuild.converters", "edgebuild.verify",
             "edgebuild.on_device_bench", "edgebuild.device_profiles", "edgebuild.recipes")


def copy_installed_package(root: Path) -> Path:
    for package in _PACKAGES:
        source = Path(importlib.util.find_spec(package).submodule_search_locations[0])
        shutil.copytree(source, root / package.replace(".", "/"), ignore=shutil.ignore_patterns("__pycache__"),
                        dirs_exist_ok=True)
    return root


def environment_for(copy: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(copy)}


def edit_module(copy: Path, module: str, line: str) -> None:
    """Append `line` to the copy's source of `module` (e.g. "edgebuild.toolchain.data")."""
    parts = module.split(".")
    path = copy.joinpath(*parts).with_suffix(".py")
    path.write_text(path.read_text() + f"\n{line}\n")
