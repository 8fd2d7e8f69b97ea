"""Recipes: the pipeline a build runs, as validated data."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from edgebuild import config
from edgebuild.config import StrictModel
from edgebuild.profile import Precision
from edgebuild.toolchain.students import student_names

RECIPES_PACKAGE = "edgebuild.recipes"


class Training(StrictModel):
    epochs: PositiveInt
    batch_size: PositiveInt = 32
    learning_rate: PositiveFloat = 1e-3


class DataConfig(StrictModel):
    source: str = Field(min_length=1)
    input_size: tuple[PositiveInt, PositiveInt]
    validation_fraction: float = Field(default=0.1, gt=0.0, lt=0.5)
    test_fraction: float = Field(default=0.2, gt=0.0, lt=0.5)


class CnnTeacher(StrictModel):
    filters: tuple[PositiveInt, ...] = Field(min_length=1)
    dense_units: PositiveInt = 64
    dropout: float = Field(default=0.25, ge=0.0, lt=1.0)


class TeacherConfig(StrictModel):
    architecture: CnnTeacher | None = None
    path: str | None = None
    trust_unsafe_format: bool = False
    training: Training | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "TeacherConfig":
        if (self.architecture is None) == (self.path is None):
            raise ValueError("expected exactly one of 'architecture' (train it) or 'path' (load a .keras file)")
        if self.architecture is not None and self.training is None:
            raise ValueError("expected 'training' when the teacher is trained from 'architecture'")
        return self


class Block(StrictModel):
    channels: PositiveInt
    stride: Literal[1, 2] = 1
    expansion: PositiveInt = 6


class StudentConfig(StrictModel):
    architecture: str
    width: PositiveFloat = 1.0
    stem_channels: PositiveInt = 8
    blocks: tuple[Block, ...] = Field(min_length=1)
    bn_momentum: float = Field(default=0.9, gt=0.0, lt=1.0)

    @field_validator("architecture")
    @classmethod
    def _registered(cls, name: str) -> str:
        if name not in student_names():
            raise ValueError(f"expected one of: {', '.join(student_names())}, got {name!r}")
        return name


class DistillConfig(StrictModel):
    kind: Literal["response", "feature", "none"] = "response"
    temperature: PositiveFloat = 4.0
    alpha: float = Field(default=0.1, ge=0.0, le=1.0)
    training: Training
    max_accuracy_drop: float = Field(default=0.1, ge=0.0, le=1.0)


class PruneConfig(StrictModel):
    target_sparsity: float = Field(ge=0.0, lt=1.0)
    training: Training
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)


class QatConfig(StrictModel):
    training: Training
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)


class ConvertConfig(StrictModel):
    precisions: tuple[Precision, ...] = Field(default=("int8",), min_length=1)
    representative_samples: PositiveInt = 200


class VerifyConfig(StrictModel):
    min_accuracy: float = Field(default=0.0, ge=0.0, le=1.0)
    max_drop_from_float: float = Field(default=0.02, ge=0.0, le=1.0)


class Recipe(StrictModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    seed: int = 0
    min_stage_accuracy: float = Field(default=0.3, ge=0.0, le=1.0)
    data: DataConfig
    teacher: TeacherConfig
    student: StudentConfig
    distill: DistillConfig
    prune: PruneConfig | None = None
    qat: QatConfig | None = None
    convert: ConvertConfig = ConvertConfig()
    verify: VerifyConfig = VerifyConfig()


def load_recipe(name_or_path: str) -> tuple[Recipe, Path]:
    """A bundled recipe name or a YAML path → the validated recipe and the file it came from."""
    return config.load(name_or_path, RECIPES_PACKAGE, "recipe", Recipe)


def recipe_names() -> list[str]:
    return config.bundled_names(RECIPES_PACKAGE)
