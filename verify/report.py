"""The report: one typed model that build, convert and verify all produce, with a published schema.

CI jobs read report.json; its JSON Schema is committed beside this module (report.schema.json)
and printed by `edgebuild schema report`. A new section is a new optional field here (and a
`schema_version` bump when an existing field changes meaning or shape).
"""

from __future__ import annotations

import inspect
import json
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from edgebuild.verify.checks import Check, verdict

SCHEMA_VERSION = 1
SCHEMA_FILE = "report.schema.json"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tensor(Section):
    name: str
    shape: list[int]
    dtype: str
    quantization: dict[str, Any] | None


class ArtifactSection(Section):
    path: str  # the published file (a verify report: the file verified)
    sha256: str
    size_bytes: int
    gzip_bytes: int
    precision: str
    parameters: int
    ops: dict[str, int]
    inputs: list[Tensor]
    outputs: list[Tensor]


class Runtime(Section):
    name: str
    version: str


class Host(Section):
    cpu_model: str
    logical_cores: int


class Histogram(Section):
    """How many timed invokes took between each pair of consecutive edges (log-spaced, milliseconds)."""

    edges_ms: list[float]
    counts: list[int]


class Latency(Section):
    """Milliseconds per invoke on this host: a proxy for the device, labelled as such."""

    p50: float
    p95: float
    p99: float
    mean: float
    min: float
    max: float
    runs: int
    warmup: int
    threads: int
    runtime: Runtime
    where: Literal["host"]
    host: Host
    note: str
    histogram: Histogram | None = None


class Memory(Section):
    checked_bytes: int
    basis: str  # the profile's: process, arena or micro-runtime
    check_basis: str | None = None  # where the checked value came from: host, estimate, micro-runtime
    method: str
    estimated_bytes: int
    estimated_arena_bytes: int
    measured_rss_delta_bytes: int | None
    measured: dict[str, Any] | None


class Accuracy(Section):
    """Top-1; the artifact's measured in the interpreter, the float reference's in Keras, same split."""

    artifact: float | None
    artifact_all_data: float | None = None
    float_student: float | None = None
    float_student_all_data: float | None = None
    float_model: float | None = None
    float_model_all_data: float | None = None
    samples: int | None = None
    measured_on: str


class Measurement(Section):
    key: str
    reused: bool
    of: str


class StageRow(Section):
    name: str
    seconds: float
    cached: bool
    key: str | None = None
    accuracy: float | None = None
    parameters: int | None = None
    sparsity: float | None = None
    size_bytes: int | None = None
    gzip_bytes: int | None = None
    precision: str | None = None
    measurement_reused: bool | None = None
    input_hashes: dict[str, str] | None = None


class Device(Section):
    device: str
    where: Literal["device"]
    transport: str | None = None
    runtime: Runtime | None = None
    latency_ms: dict[str, float | None] | None = None
    memory: dict[str, Any] | None = None
    not_measured: list[str] = []


class PredictedLatency(Section):
    """A phone profile's latency with basis `predicted`: the bundled predictor's p50, not a measurement."""

    device: str
    runtime: str
    precision: str
    p50_ms: float
    band_low_ms: float
    band_high_ms: float | None  # None: the p90 error is 100% or more, no upper bound
    error: dict[str, float | int]  # leave-one-model-out: models, median_ape_pct, p90_ape_pct
    band: str
    features: dict[str, int]
    within_fitted_range: bool
    source: dict[str, str]
    note: str


class BaselineDelta(Section):
    check: str
    metric: str
    baseline: float
    now: float
    change: float
    change_pct: float
    tolerance_pct: float


class Baseline(Section):
    path: str
    sha256: str
    deltas: list[BaselineDelta]
    not_compared: list[str]


class Fit(Section):
    """`edgebuild fit`'s predictions for the chosen student, beside what the build then measured."""

    profile: str
    precision: str
    io_dtype: str
    choose: str | None
    chosen: str | None
    fits: bool
    candidates: list[dict[str, Any]]
    predicted_figures: dict[str, str]
    predicted_vs_measured: dict[str, dict[str, Any]]


class MicroRuntimeRun(Section):
    """TFLite Micro's run of the model: the arena it allocated, top-1 there, agreement with LiteRT."""

    runtime: Literal["tflite-micro"]
    version: str
    basis: Literal["micro-runtime"]
    arena_bytes: int | None
    samples: int | None
    top1: float | None
    top1_disagreements: int | None
    max_abs_output_diff: float | None
    error: str | None
    missing_op: str | None
    allocations: list[str]


class NpuLayer(Section):
    op: str
    vela_op: str
    target: Literal["NPU", "CPU"]
    cycles: int
    macs: int
    name: str
    reason: str | None = None


class CompiledModel(Section):
    path: str | None  # the published file (None in a verify report: nothing is published)
    sha256: str
    size_bytes: int


class Npu(Section):
    """Arm Vela's compile for an Ethos-U NPU: where each op runs and Vela's estimates (not a measurement)."""

    compiler: Literal["vela"]
    version: str
    accelerator_config: str
    system_config: str
    memory_mode: str
    basis: Literal["vendor-estimate"]
    inference_ms: float
    inferences_per_second: float
    sram_bytes: int
    weight_memory: str
    weight_memory_bytes: int
    npu_ops: int
    cpu_ops: int
    layers: list[NpuLayer]
    compiled: CompiledModel


class Layer(Section):
    """One op of the artifact, in execution order: the bytes of the constant tensors it reads and its MACs."""

    index: int
    op: str
    output: str
    output_shape: list[int]
    weight_bytes: int
    macs: int


class Rung(Section):
    """One rung of the precision ladder, converted, measured in the interpreter and gated."""

    rung: int  # 1 is the configured conversion
    name: str
    precision: str
    kept_float: list[str]  # output tensors of the ops kept float
    accuracy: float | None  # top-1 on the test split in the interpreter
    size_bytes: int | None
    gzip_bytes: int | None
    host_latency_ms: float | None  # p50 on this host
    passed: bool
    failed: list[str]  # the checks that failed, or why the rung did not convert
    shipped: bool


class PrecisionSearch(Section):
    rungs: list[Rung]
    shipped: int | None  # the rung published as the artifact passing, else None


class Report(Section):
    schema_version: Literal[1] = SCHEMA_VERSION
    kind: Literal["build", "convert", "verify"]
    title: str
    recipe: str | None = None
    model: str | None = None
    profile: str
    precision: str | None = None
    io_dtype: str | None = None
    passed: bool
    checks: list[Check]
    artifact: ArtifactSection
    latency_ms: Latency | None
    memory: Memory
    accuracy: Accuracy | None = None
    measurement: Measurement | None = None
    stages: list[StageRow] = []
    fit: Fit | None = None
    layers: list[Layer] | None = None
    device: Device | None = None
    predicted_latency: PredictedLatency | None = None
    baseline: Baseline | None = None
    npu: Npu | None = None
    micro_runtime: MicroRuntimeRun | None = None
    precision_search: PrecisionSearch | None = None
    normalization: dict[str, Any] | None = None
    versions: dict[str, str]
    inputs: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _verdict_is_the_checks(self) -> "Report":
        if self.passed != verdict(self.checks):
            raise ValueError("passed must be true exactly when every check that ran passed")
        return self

    def failed_checks(self) -> list[Check]:
        return [check for check in self.checks if check.ran and not check.passed]

    def to_json(self) -> bytes:
        return (json.dumps(self.model_dump(mode="json"), indent=2) + "\n").encode()


def report_schema() -> dict[str, Any]:
    """The JSON Schema of report.json, as the model defines it."""
    schema = Report.model_json_schema()
    # pydantic 2.13 describes a standard dataclass by its docstring, 2.11 (which the torch extra's
    # litert-torch pins through typing-extensions<4.13) does not: the schema is the same under both.
    schema["$defs"]["Check"].setdefault("description", inspect.cleandoc(Check.__doc__))
    schema["$id"] = f"https://edgebuild.dev/report.schema.v{SCHEMA_VERSION}.json"
    return schema


def committed_schema() -> dict[str, Any]:
    """The schema as committed in the repository (a test keeps it equal to `report_schema()`)."""
    return json.loads(resources.files("edgebuild.verify").joinpath(SCHEMA_FILE).read_text())
