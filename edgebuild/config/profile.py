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
    """Largest .tflite file allowed."""
    gzip_bytes: PositiveInt
    """Largest gzip -9 of the .tflite allowed (what an over-the-air update ships)."""
    peak_memory_bytes: PositiveInt | None = None
    """Largest peak memory allowed, measured as `peak_memory_basis` says; omitted only with a
    micro_runtime section, whose ram_bytes is the budget."""
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
    basis: Literal["host", "predicted"] = "host"
    """What the latency checks judge: `host`, this machine's interpreter time (a proxy); `predicted`, the
    bundled predictor's time for the phone `predicted_for` names (fitted on published measurements, with its
    leave-one-model-out error as the band). Host times stay in the report, labelled host, and a device
    measured over adb or ssh replaces the prediction."""
    predicted_for: str | None = None
    """The phone the latency predictor was fitted for (required with basis: predicted)."""

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
    """The delegate the device runs models with (informational)."""
    allow: tuple[str, ...] | None = None
    """Builtin ops the device runs; any other op fails the ops check (omit to allow all)."""


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
    """The NPU compiler (Arm's Vela)."""
    accelerator_config: AcceleratorConfig
    """The Ethos-U variant and MACs per cycle, as `vela --accelerator-config` takes it."""
    system_config: str
    """A System_Config section of device_profiles/vela.ini or Vela's own vela.ini (clocks, memory ports)."""
    memory_mode: str
    """A Memory_Mode section of the same file (where feature maps and weights live)."""
    require_all_ops_on_npu: bool = True
    """True: an op Vela leaves to the CPU fails the gate (the firmware runs no CPU fallback kernels);
    false: CPU ops are reported, named, and pass."""
    sram_bytes: PositiveInt
    """What Vela may place in SRAM (tensor arena and cached weights)."""
    flash_bytes: PositiveInt
    """What Vela may place in the weights' memory (flash, MRAM or DRAM)."""

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
    """The micro runtime the model is run in."""
    ram_bytes: PositiveInt
    """The RAM for the tensor arena TFLite Micro allocates (and the model, if in RAM)."""
    flash_bytes: PositiveInt
    """The flash the firmware leaves for the model."""
    model_in_ram: bool = False
    """False: the model is read in place from flash (XIP); true: it is copied to RAM and counts there."""


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
    npu: NpuConfig | None = None
    """An Ethos-U NPU: the model is compiled with Vela and gated on its placement and estimates."""
    micro_runtime: MicroRuntime | None = None
    """A microcontroller: the model is run in TFLite Micro and gated on the arena it allocates."""

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
