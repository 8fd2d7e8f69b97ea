"""Device profiles: what a target can hold and run, validated strictly on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator

from edgebuild.config import models
from edgebuild.config.models import NAME_PATTERN, StrictModel
from edgebuild.config.precisions import PRECISIONS, Precision

IoDtype = Literal["int8", "uint8", "float32"]
PROFILES_PACKAGE = "edgebuild.device_profiles"


class Budgets(StrictModel):
    size_bytes: PositiveInt
    """Largest .tflite file allowed."""
    gzip_bytes: PositiveInt
    """Largest gzip -9 of the .tflite allowed (what an over-the-air update ships)."""
    peak_memory_bytes: PositiveInt
    """Largest peak memory allowed, measured as `peak_memory_basis` says."""
    peak_memory_basis: Literal["process", "arena"] = "process"
    """`process`: the larger of a measured process's RSS growth and model + arena estimate (phones, boards);
    `arena`: the estimated tensor arena alone (microcontrollers run the model from flash)."""


class LatencyTarget(StrictModel):
    p50_ms: PositiveFloat
    """Median host latency limit, milliseconds per invoke."""
    p95_ms: PositiveFloat
    """95th-percentile host latency limit, milliseconds per invoke."""
    threads: PositiveInt = 1
    """Interpreter threads latency is measured with."""
    throughput_gmacs: PositiveFloat | None = None
    """The device's published GMAC/s at the profile's precision: turns predicted MACs into a labelled latency
    estimate in `edgebuild fit`; never a check."""


class OpConstraints(StrictModel):
    delegate: str | None = None
    """The delegate the device runs models with (informational)."""
    allow: tuple[str, ...] | None = None
    """Builtin ops the device runs; any other op fails the ops check (omit to allow all)."""


class Tolerances(StrictModel):
    """How much a release may grow against a baseline report before the gate fails."""

    size_growth_pct: float = Field(default=5.0, ge=0)
    """Size growth against `--baseline` allowed, percent."""
    latency_growth_pct: float = Field(default=25.0, ge=0)
    """Host latency growth against `--baseline` allowed, percent."""


class DeviceProfile(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    """Names the output folder OUT/<recipe>/<name>/."""
    description: str
    """What the device is, one line."""
    budgets: Budgets
    """Size, gzip and memory limits."""
    latency: LatencyTarget
    """Host latency limits and how they are measured."""
    precisions: tuple[Precision, ...] = Field(min_length=1)
    """Precisions the device runs, preferred first."""
    io_dtypes: tuple[IoDtype, ...] = Field(min_length=1)
    """Model input/output dtypes the device accepts, preferred first."""
    ops: OpConstraints = OpConstraints()
    """Which ops the device runs."""
    tolerances: Tolerances = Tolerances()
    """How much a release may grow against a baseline report."""
    device: str | None = None
    """ssh://user@host[:port] or adb:SERIAL: where `--device` runs go by default."""

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
