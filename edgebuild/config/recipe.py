"""Recipes: the pipeline a build runs, as validated data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (Field, PositiveFloat, PositiveInt, ValidatorFunctionWrapHandler, WrapValidator,
                      field_validator, model_validator)

from edgebuild.config import models
from edgebuild.config.models import NAME_PATTERN, StrictModel
from edgebuild.config.precisions import Precision
from edgebuild.config.students import (BnMomentum, StudentArchitecture, StudentConfig, candidate_config,
                                       student_config, without_name)

RECIPES_PACKAGE = "edgebuild.recipes"
AUTO = "auto"  # student.choose: let `edgebuild fit` pick the largest candidate that fits the profile


def _candidate(value: Any, handler: ValidatorFunctionWrapHandler) -> StudentConfig:
    return candidate_config(value) if isinstance(value, dict) else handler(value)


class Training(StrictModel):
    epochs: PositiveInt
    batch_size: PositiveInt = 32
    learning_rate: PositiveFloat = 1e-3


class DataConfig(StrictModel):
    source: str = Field(min_length=1)
    input_size: tuple[PositiveInt, PositiveInt]
    # Held out of training and reported after every stage; 0 trains on all but the test split.
    validation_fraction: float = Field(default=0.0, ge=0.0, lt=0.5)
    test_fraction: float = Field(default=0.2, gt=0.0, lt=0.5)


class CnnTeacher(StrictModel):
    filters: tuple[PositiveInt, ...] = Field(min_length=1)
    dense_units: PositiveInt = 64
    dropout: float = Field(default=0.25, ge=0.0, lt=1.0)
    random_shift: float = Field(default=0.0, ge=0.0, lt=0.5)  # fraction of height/width, training only


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


class StudentLadder(StrictModel):
    """Students to choose from before training: `choose: auto` (the largest that fits the profile,
    see app/fit.py) or a candidate's name. `architecture` and `bn_momentum` given here are every
    candidate's unless it sets its own."""

    choose: str = Field(min_length=1)
    architecture: StudentArchitecture | None = None
    bn_momentum: BnMomentum | None = None
    candidates: tuple[Annotated[StudentConfig, WrapValidator(_candidate)], ...] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _shared_fields(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("candidates"), list):
            return data
        shared = {key: data[key] for key in ("architecture", "bn_momentum") if data.get(key) is not None}
        merged = [{**shared, **rung} if isinstance(rung, dict) else rung for rung in data["candidates"]]
        return {**data, "candidates": merged}

    @model_validator(mode="after")
    def _names(self) -> "StudentLadder":
        names = self.names()
        repeated = sorted({name for name in names if names.count(name) > 1 or name == AUTO})
        if repeated:
            raise ValueError(f"expected unique candidate names other than {AUTO!r}, got {repeated}")
        if self.choose != AUTO and self.choose not in names:
            raise ValueError(f"choose: expected {AUTO!r} or one of {names}, got {self.choose!r}")
        return self

    def names(self) -> list[str]:
        return [candidate.name for candidate in self.candidates]

    def students(self) -> list[StudentConfig]:
        """Each candidate as the student it is (without its name), in the recipe's order."""
        return [without_name(candidate) for candidate in self.candidates]


class DistillConfig(StrictModel):
    kind: Literal["response", "feature", "none"] = "response"
    temperature: PositiveFloat = 4.0
    alpha: float = Field(default=0.1, ge=0.0, le=1.0)
    feature_weight: float = Field(default=1.0, ge=0.0)  # kind: feature only, weight of the feature loss
    training: Training
    max_accuracy_drop: float = Field(default=0.1, ge=0.0, le=1.0)


class PruneConfig(StrictModel):
    target_sparsity: float | None = Field(default=None, ge=0.0, lt=1.0)
    m_by_n: tuple[PositiveInt, PositiveInt] | None = None  # (2, 4): at least 2 zeros in every 4 input channels
    training: Training
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_pattern(self) -> "PruneConfig":
        if (self.target_sparsity is None) == (self.m_by_n is None):
            raise ValueError("expected exactly one of 'target_sparsity' (magnitude pruning) or 'm_by_n' "
                             "(structured, e.g. [2, 4])")
        if self.m_by_n is not None and self.m_by_n[0] >= self.m_by_n[1]:
            raise ValueError(f"m_by_n: expected m zeros in every n weights with m < n, got {list(self.m_by_n)}")
        return self


class ClusterConfig(StrictModel):
    number_of_clusters: int = Field(ge=2)
    centroid_init: Literal["kmeans_plus_plus", "density_based", "linear", "random"] = "kmeans_plus_plus"
    training: Training
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)


class QatConfig(StrictModel):
    training: Training
    max_accuracy_drop: float = Field(default=0.03, ge=0.0, le=1.0)


class SearchConfig(StrictModel):
    """The precision ladder (app/precision_search.py): tried in order when the configured conversion fails."""

    max_trials: PositiveInt = 6  # rungs tried at most, the configured conversion first
    representative_samples: PositiveInt = 1000  # the better-calibrated int8 rung's calibration draw
    keep_float: PositiveInt = 2  # ops the int8_mixed rung keeps float
    candidates: PositiveInt = 4  # worst ops by int8 error whose float fallback is measured


class ConvertConfig(StrictModel):
    precisions: tuple[Precision, ...] = Field(default=("int8",), min_length=1)
    representative_samples: PositiveInt = 200
    search: SearchConfig | None = None


class VerifyConfig(StrictModel):
    min_accuracy: float = Field(default=0.0, ge=0.0, le=1.0)
    max_drop_from_float: float = Field(default=0.02, ge=0.0, le=1.0)


class Recipe(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    seed: int = 0
    strategy: Literal["default", "mirrored", "multi-worker"] = "default"  # tf.distribute for training
    min_stage_accuracy: float = Field(default=0.3, ge=0.0, le=1.0)
    data: DataConfig
    teacher: TeacherConfig
    student: StudentConfig | StudentLadder
    distill: DistillConfig
    prune: PruneConfig | None = None
    cluster: ClusterConfig | None = None
    qat: QatConfig | None = None
    convert: ConvertConfig = ConvertConfig()
    verify: VerifyConfig = VerifyConfig()

    @field_validator("student", mode="wrap")
    @classmethod
    def _student_form(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> StudentConfig | StudentLadder:
        """A mapping with `candidates` is a ladder, any other one student: each form's errors then name
        its own fields (`student.width`), not a union branch."""
        if isinstance(value, dict):
            return StudentLadder.model_validate(value) if "candidates" in value else student_config(value)
        return handler(value)


def load_recipe(name_or_path: str) -> tuple[Recipe, Path]:
    """A bundled recipe name or a YAML path → the validated recipe and the file it came from."""
    return models.load(name_or_path, RECIPES_PACKAGE, "recipe", Recipe)


def recipe_names() -> list[str]:
    return models.bundled_names(RECIPES_PACKAGE)
