"""What a training stage receives, kept free of TensorFlow so planning never imports it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.errors import BadInput
from edgebuild.events import Events


@dataclass(frozen=True)
class StageContext:
    """What a training stage may read: the recipe, the data, the seed, and where to report."""

    recipe: Any
    dataset: Any
    seed: int
    events: Events
    base_dir: Path
    strategy_name: str = "default"
    strategy: Any = None  # a tf.distribute strategy; None = TensorFlow's default


@dataclass(frozen=True)
class Upstream:
    """The models earlier stages made: the teacher, and the model the previous stage left."""

    teacher: Any = None
    previous: Any = None


def teacher_file(recipe, base_dir: Path) -> Path | None:
    """The user's teacher file, resolved against the recipe's folder; its bytes go into the cache key."""
    path = recipe.teacher.path
    if path is None:
        return None
    resolved = Path(path) if Path(path).is_absolute() else base_dir / path
    if not resolved.exists():
        raise BadInput(f"teacher.path: {resolved}: file not found (expected a .keras model)")
    return resolved
