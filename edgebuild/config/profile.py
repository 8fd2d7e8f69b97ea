"""Device profiles: what a target can hold and run, validated strictly on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from edgebuild.config import models
from edgebuild.config.latency_predictor import PROFILES_PACKAGE, predictor_devices
from edgebuild.config.models import NAME_PATTERN, StrictModel
from edgebuild.config.precisions import PRECISIONS, Precision

IoDtype = Literal["int8", "uint8", "float32"]


class Budgets(StrictModel):
    size_bytes: PositiveInt
    gzip_bytes: PositiveInt
    peak_memory_bytes: PositiveInt
    # "process": the larger of a measured process's RSS growth and model + arena estimate (phones,
    # boards). "arena": the estimated tensor arena alone (microcontrollers run the model from flash,
    # with no process whose RSS would mean anything).
    peak_memory_basis: Literal["process", "arena"] = "process"


class LatencyTarget(StrictModel):
    p50_ms: PositiveFloat
    p95_ms: PositiveFloat
    threads: PositiveInt = 1
    # The device's published multiply-accumulate rate (GMAC/s at the profile's precision): turns
    # predicted MACs into a labelled device latency estimate in `edgebuild fit`; never a check.
    throughput_gmacs: PositiveFloat | None = None
    # What the latency checks judge. "host": this machine's interpreter time, a proxy. "predicted":
    # the bundled predictor's time for the phone `predicted_for` names (fitted on published
    # measurements, with its leave-one-model-out error as the band); host times stay in the report,
    # labelled host, and a device measured over adb or ssh replaces the prediction.
    basis: Literal["host", "predicted"] = "host"
    predicted_for: str | None = None

    @field_validator("predicted_for")
    @classmethod
    def _known_device(cls, device: str | None) -> str | None:
        known = predictor_devices()
        if device is not None and device not in known:
            raise ValueError(f"expected a device the latency predictor was fitted for, one of: "
                             f"{', '.join(known)}; got {device!r}")
        return device

    @model_validator(mode="after")
    def _device_named(self) -> "LatencyTarget":
        if self.basis == "predicted" and self.predicted_for is None:
            raise ValueError("predicted_for: required when basis is predicted (the phone to predict for)")
        return self


class OpConstraints(StrictModel):
    delegate: str | None = None
    allow: tuple[str, ...] | None = None


class Tolerances(StrictModel):
    """How much a release may grow against a baseline report before the gate fails."""

    size_growth_pct: float = Field(default=5.0, ge=0)
    latency_growth_pct: float = Field(default=25.0, ge=0)


class DeviceProfile(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    description: str
    budgets: Budgets
    latency: LatencyTarget
    precisions: tuple[Precision, ...] = Field(min_length=1)
    io_dtypes: tuple[IoDtype, ...] = Field(min_length=1)
    ops: OpConstraints = OpConstraints()
    tolerances: Tolerances = Tolerances()
    device: str | None = None

    @field_validator("precisions", "io_dtypes")
    @classmethod
    def _unique(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(values)) != len(values):
            raise ValueError(f"expected each entry once, got {list(values)}")
        return values

    @property
    def requires_full_integer(self) -> bool:
        """An integer-only accelerator with integer I/O cannot fall back to float kernels."""
        return (all(PRECISIONS.get(name).full_integer for name in self.precisions)
                and "float32" not in self.io_dtypes)

    def io_dtype_for(self, precision: str) -> IoDtype | None:
        """The first I/O dtype this profile accepts that a model of `precision` can have."""
        usable = PRECISIONS.get(precision).io_dtypes
        return next((dtype for dtype in self.io_dtypes if dtype in usable), None)


def load_profile(name_or_path: str) -> tuple[DeviceProfile, Path]:
    """A bundled profile name or a YAML path → the validated profile and the file it came from."""
    return models.load(name_or_path, PROFILES_PACKAGE, "profile", DeviceProfile)


def profile_names() -> list[str]:
    return models.bundled_names(PROFILES_PACKAGE)
