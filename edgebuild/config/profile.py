"""Device profiles: what a target can hold and run, validated strictly on load."""

from __future__ import annotations

import configparser
import functools
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from edgebuild.config import models
from edgebuild.config.latency_predictor import PROFILES_PACKAGE, predictor_devices
from edgebuild.config.models import NAME_PATTERN, StrictModel
from edgebuild.config.precisions import PRECISIONS, Precision

IoDtype = Literal["int8", "uint8", "float32"]
# Device system configurations for Vela (clocks and memory ports from each device's datasheet), beside
# the profiles that name them; Vela's own vela.ini holds Arm's generic ones.
VELA_INI = "vela.ini"
# `vela --help`, ethos-u-vela 5.2.0
AcceleratorConfig = Literal[
    "ethos-u55-32", "ethos-u55-64", "ethos-u55-128", "ethos-u55-256", "ethos-u65-256", "ethos-u65-512",
    "ethos-u85-128", "ethos-u85-256", "ethos-u85-512", "ethos-u85-1024", "ethos-u85-2048"]


class Budgets(StrictModel):
    size_bytes: PositiveInt
    gzip_bytes: PositiveInt
    peak_memory_bytes: PositiveInt | None = None  # None only with a micro_runtime section (its ram_bytes)
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


def vela_ini_paths() -> tuple[Path, Path]:
    """edgebuild's device system configurations, then Vela's own (Arm's generic ones)."""
    ours = Path(str(resources.files(PROFILES_PACKAGE) / VELA_INI))
    return ours, Path(str(resources.files("ethosu") / "config_files" / "Arm" / "vela.ini"))


@functools.cache
def vela_sections(kind: str) -> dict[str, Path]:
    """Section names of `kind` (System_Config, Memory_Mode) → the ini file that defines them (ours first)."""
    found: dict[str, Path] = {}
    for path in reversed(vela_ini_paths()):
        parser = configparser.ConfigParser()
        parser.read(path)
        found.update({name.split(".", 1)[1]: path for name in parser.sections() if name.startswith(f"{kind}.")})
    return found


class NpuConfig(StrictModel):
    """An Arm Ethos-U NPU, compiled for with Vela: the configuration Vela estimates cycles and memory for."""

    compiler: Literal["vela"] = "vela"
    accelerator_config: AcceleratorConfig
    system_config: str  # a System_Config section of device_profiles/vela.ini or Vela's own vela.ini
    memory_mode: str  # a Memory_Mode section of the same file
    # True: an op Vela leaves to the CPU fails the gate (the firmware runs no CPU fallback kernels);
    # False: CPU ops are reported, named, and pass.
    require_all_ops_on_npu: bool = True
    sram_bytes: PositiveInt  # what Vela may place in SRAM (tensor arena and cached weights)
    flash_bytes: PositiveInt  # what Vela may place in the weights' memory (flash, MRAM or DRAM)

    @field_validator("system_config")
    @classmethod
    def _known_system_config(cls, name: str) -> str:
        return _vela_section("System_Config", name)

    @field_validator("memory_mode")
    @classmethod
    def _known_memory_mode(cls, name: str) -> str:
        return _vela_section("Memory_Mode", name)

    @model_validator(mode="after")
    def _one_config_file(self) -> "NpuConfig":
        systems, modes = vela_sections("System_Config"), vela_sections("Memory_Mode")
        if systems[self.system_config] != modes[self.memory_mode]:
            raise ValueError(f"memory_mode {self.memory_mode!r} and system_config {self.system_config!r} are "
                             f"defined in different Vela ini files; Vela reads one")
        return self

    @property
    def config_file(self) -> Path:
        return vela_sections("System_Config")[self.system_config]


def _vela_section(kind: str, name: str) -> str:
    known = vela_sections(kind)
    if name not in known:
        raise ValueError(f"expected one of {sorted(known)}, got {name!r}")
    return name


class MicroRuntime(StrictModel):
    """TensorFlow Lite for Microcontrollers: the model is run in TFLite Micro's own kernels."""

    runtime: Literal["tflite-micro"] = "tflite-micro"
    ram_bytes: PositiveInt  # the RAM for the tensor arena TFLite Micro allocates (and the model, if in RAM)
    flash_bytes: PositiveInt  # the flash the firmware leaves for the model
    # False: the model is read in place from flash (XIP); True: it is copied to RAM and counts there.
    model_in_ram: bool = False


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
    npu: NpuConfig | None = None
    micro_runtime: MicroRuntime | None = None

    @model_validator(mode="after")
    def _one_memory_budget(self) -> "DeviceProfile":
        if (self.micro_runtime is None) == (self.budgets.peak_memory_bytes is None):
            raise ValueError("budgets.peak_memory_bytes: expected exactly one RAM budget: budgets.peak_memory_bytes, "
                             "or micro_runtime.ram_bytes for a TFLite Micro profile")
        return self

    @property
    def memory_budget_bytes(self) -> int:
        """What peak memory is checked against: TFLite Micro's RAM, or the budgets' peak memory."""
        return self.micro_runtime.ram_bytes if self.micro_runtime else self.budgets.peak_memory_bytes

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
