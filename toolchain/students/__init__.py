"""The student registry's entries: one file per student, each a config model and a builder.

Importing this package registers every student module in it (edgebuild.config.students imports
it on first use), so adding a student is adding a file here.

Every layer is named explicitly: stable names give stable tensor names, and so byte-identical
artifacts across processes (Keras' per-process name counters otherwise leak into the file).
"""

from __future__ import annotations

import importlib
import pkgutil

from edgebuild.config.students import STUDENTS, StudentConfig
from edgebuild.toolchain.students.blocks import POOL_LAYER

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("blocks", "quantizable_layers"):
        importlib.import_module(f"{__name__}.{_module.name}")


def build_student(config: StudentConfig, input_shape: tuple[int, int, int], num_classes: int):
    """The untrained Keras model for a validated `student` section."""
    return STUDENTS.get(config.architecture).build(config, input_shape, num_classes)


__all__ = ["POOL_LAYER", "build_student"]
