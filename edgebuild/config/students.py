"""The student registry's schemas: each student validates its own `student:` section.

A student is one file in toolchain/students/: a config model extending `StudentConfig` with the
fields only it has, and a builder registered with `@register_student(ThatConfig)` under the
builder's name. A recipe's `student` mapping is validated against the model of the student its
`architecture` names; a ladder's candidates likewise, each with a `name` besides.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model

from edgebuild.base.errors import BadInput
from edgebuild.base.registry import Registry
from edgebuild.config.models import NAME_PATTERN, StrictModel

BnMomentum = Annotated[float, Field(gt=0.0, lt=1.0)]


class StudentConfig(StrictModel):
    """What every student's schema has."""

    @classmethod
    def schema_for(cls, value: dict) -> type[StudentConfig]:
        """The registered schema a mapping validates as (error messages list its fields)."""
        try:
            schema = _schema(value)
        except (ValueError, BadInput):
            return cls
        return candidate_schema(schema) if "name" in value else schema

    architecture: str
    """The registered student to build (`mobilenet_v1`, `mobilenet_v2`, ...)."""
    bn_momentum: BnMomentum = 0.9
    """Batch-norm moving-average momentum; Keras' 0.999 never settles in a few hundred steps (a MobileNetV2 on
    1,400 digits scored 8%, measured)."""


# (config, (height, width, channels), classes) -> an untrained tf_keras model
StudentBuilder = Callable[[Any, tuple[int, int, int], int], Any]


@dataclass(frozen=True)
class StudentEntry:
    config: type[StudentConfig]
    build: StudentBuilder


STUDENTS: Registry[StudentEntry] = Registry("student", entries_from="edgebuild.toolchain.students")


def register_student(config: type[StudentConfig]) -> Callable[[StudentBuilder], StudentBuilder]:
    """`@register_student(MyConfig)` on `def my_student(config, input_shape, num_classes)`."""

    def register(builder: StudentBuilder) -> StudentBuilder:
        STUDENTS.add(builder.__name__, StudentEntry(config, builder))
        return builder

    return register


def _registered(name: str) -> str:
    if name not in STUDENTS:
        raise ValueError(f"expected one of: {', '.join(STUDENTS.names())}, got {name!r}")
    return name


StudentArchitecture = Annotated[str, AfterValidator(_registered)]


class _Architecture(BaseModel):
    """The one field read first, so its error names `student.architecture`."""

    model_config = ConfigDict(extra="ignore")
    architecture: StudentArchitecture


def student_config(value: Any) -> StudentConfig:
    """A `student:` mapping validated against its architecture's schema (pydantic errors, located)."""
    return _schema(value).model_validate(value)


def candidate_config(value: Any) -> StudentConfig:
    """A ladder candidate: the architecture's schema plus a `name`."""
    return candidate_schema(_schema(value)).model_validate(value)


def without_name(candidate: StudentConfig) -> StudentConfig:
    """The candidate as the student it is, so its stages' keys equal those of a one-student recipe."""
    schema = STUDENTS.get(candidate.architecture).config
    return schema.model_validate(candidate.model_dump(exclude={"name"}))


def _schema(value: Any) -> type[StudentConfig]:
    if not isinstance(value, dict):
        return StudentConfig  # its own validation says what was expected
    return STUDENTS.get(_Architecture.model_validate(value).architecture).config


@functools.cache
def candidate_schema(schema: type[StudentConfig]) -> type[StudentConfig]:
    return create_model(f"{schema.__name__}Candidate", __base__=schema, name=(str, Field(
        pattern=NAME_PATTERN, description="What `choose` and the reports call this candidate.")))
