"""The base of every config object, and how a name or a path becomes a validated YAML file."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

from edgebuild.base.errors import BadInput
from edgebuild.config.yamlfile import read_yaml, validate


class StrictModel(BaseModel):
    """Frozen, unknown keys refused: a typo in a recipe is an error, never a silent default. A field's
    docstring is its description in the JSON Schema and in `edgebuild recipes fields` / `profiles fields`."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


Config = TypeVar("Config", bound=StrictModel)

# Recipe and profile names are also folders (OUT/<recipe>/<profile>/): no separator, no leading dot.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

_BUNDLED_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def bundled_names(package: str) -> list[str]:
    folder = resources.files(package)
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def resolve(name_or_path: str, package: str, kind: str) -> Path:
    """A bundled name (`digits`) or a path ending in .yaml/.yml; names never escape their folder."""
    if name_or_path.endswith((".yaml", ".yml")):
        path = Path(name_or_path)
        if not path.is_file():
            raise BadInput(f"{name_or_path}: {kind} file not found")
        return path
    if not _BUNDLED_NAME.match(name_or_path) or name_or_path not in bundled_names(package):
        known = ", ".join(bundled_names(package))
        raise BadInput(f"unknown {kind} {name_or_path!r}: expected a .yaml file path or one of: {known}")
    return Path(str(resources.files(package) / f"{name_or_path}.yaml"))


def load(name_or_path: str, package: str, kind: str, model: type[Config]) -> tuple[Config, Path]:
    path = resolve(name_or_path, package, kind)
    return validate(read_yaml(path), model), path
