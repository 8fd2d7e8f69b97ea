"""The Vela stage: an int8 .tflite compiled for an Arm Ethos-U NPU with Arm's Vela compiler, cached.

Vela places each op on the NPU or leaves it to the CPU, writes the compiled model (the NPU part
becomes one `ethos-u` custom op) and two CSVs: a summary (estimated inference time, SRAM and
weight-memory use) and a per-layer table (target, cycles, MACs). It exits 0 even when ops fall back
to the CPU, so the gate reads the per-layer table, never the exit code alone; the reason Vela gives
for each CPU op is read from its warnings. Vela runs in a child process with a time limit, like
every tool run on a file from outside. The key: the model's bytes, the NPU configuration, the
Vela ini file's bytes and Vela's version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
import tempfile
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.profile import NpuConfig
from edgebuild.on_device_bench.child_process import TimedOut, last_line, run_with_time_limit

VELA_TIMEOUT_S = 300.0
COMPILED_FILE = "model_vela.tflite"
RESULT_FILE = "vela.json"
# The memory each `weights_storage_area` of Vela's summary names, and the summary column of its use.
_WEIGHT_MEMORY_COLUMN = {"SRAM": "sram_memory_used", "DRAM": "dram_memory_used",
                         "On-chip Flash": "on_chip_flash_memory_used", "Off-chip Flash": "off_chip_flash_memory_used"}
# "Warning (supported operators) operator: SIN, ofm: 'x'" then "Reason: Unsupported opType"
_CPU_REASON = re.compile(r"operator: (?P<op>\w+), ofm: '(?P<ofm>[^']*)'\s*\nReason: (?P<reason>[^\n]*)")


class VelaFailed(Exception):
    """Vela did not compile the model; the message is one line."""


@dataclass(frozen=True)
class VelaLayer:
    op: str  # the original TFLite operator, as Vela names it (Conv2D, Sin, ...)
    vela_op: str  # the operation Vela made of it (a Conv2D's fused ReLU is an op of its own)
    target: str  # NPU or CPU
    cycles: int
    macs: int
    name: str  # the op's output tensor
    reason: str | None = None  # why Vela left it to the CPU


@dataclass(frozen=True)
class VelaResult:
    version: str
    accelerator_config: str
    system_config: str
    memory_mode: str
    inference_time_s: float
    inferences_per_second: float
    sram_bytes: int
    weight_memory: str  # where Vela put the weights (Off-chip Flash, DRAM, ...)
    weight_memory_bytes: int
    layers: tuple[VelaLayer, ...]

    @property
    def cpu_layers(self) -> list[VelaLayer]:
        return [layer for layer in self.layers if layer.target == "CPU"]

    @property
    def npu_op_count(self) -> int:
        return sum(layer.target == "NPU" for layer in self.layers)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "layers": [asdict(layer) for layer in self.layers]}

    @classmethod
    def from_dict(cls, stored: dict[str, Any]) -> VelaResult:
        return cls(**{**stored, "layers": tuple(VelaLayer(**layer) for layer in stored["layers"])})


@dataclass(frozen=True)
class Compiled:
    result: VelaResult
    model_bytes: bytes  # the compiled model: what ships to the board


def vela_version() -> str:
    return version("ethos-u-vela")


def compile_for_npu(model_bytes: bytes, npu: NpuConfig, timeout_s: float = VELA_TIMEOUT_S) -> Compiled:
    """Compile with Vela in a child process; raises VelaFailed when Vela refuses the model or hangs."""
    with tempfile.TemporaryDirectory(prefix="edgebuild-vela-") as folder:
        model = Path(folder) / "model.tflite"
        model.write_bytes(model_bytes)
        out = Path(folder) / "out"
        argv = [sys.executable, "-m", "ethosu.vela", str(model), "--output-dir", str(out), "--verbose-performance",
                "--config", str(npu.config_file), "--accelerator-config", npu.accelerator_config,
                "--system-config", npu.system_config, "--memory-mode", npu.memory_mode]
        try:
            finished = run_with_time_limit(argv, timeout_s=timeout_s, cwd=folder)
        except TimedOut as timed_out:
            raise VelaFailed(f"vela {timed_out}") from None
        if finished.returncode != 0:
            said = last_line(finished.stderr) or last_line(finished.stdout) or "nothing"
            raise VelaFailed(f"vela exited with status {finished.returncode}: {said}")
        summary = _read_csv(out / f"model_summary_{npu.system_config}.csv")[0]
        layers = _layers(_read_csv(out / "model_per-layer.csv"), _cpu_reasons(finished.stdout))
        return Compiled(_result(summary, layers, npu), (out / "model_vela.tflite").read_bytes())


def _read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _cpu_reasons(stdout: str) -> dict[str, str]:
    """Vela's reason for each op it leaves to the CPU, by the op's output tensor name."""
    return {found["ofm"]: f"{found['op']}: {found['reason'].strip()}" for found in _CPU_REASON.finditer(stdout)}


def _layers(rows: list[dict[str, str]], reasons: dict[str, str]) -> tuple[VelaLayer, ...]:
    return tuple(VelaLayer(op=row["Original Operator"], vela_op=row["NNG Operator"], target=row["Target"],
                           cycles=int(row["Op Cycles"]), macs=int(row["MAC Count"]), name=row["Name"],
                           reason=reasons.get(row["Name"]) if row["Target"] == "CPU" else None) for row in rows)


def _kib_to_bytes(value: str) -> int:
    return round(float(value) * 1024)


def _result(summary: dict[str, str], layers: tuple[VelaLayer, ...], npu: NpuConfig) -> VelaResult:
    weight_memory = summary["weights_storage_area"]
    return VelaResult(version=vela_version(), accelerator_config=npu.accelerator_config,
                      system_config=npu.system_config, memory_mode=npu.memory_mode,
                      inference_time_s=float(summary["inference_time"]),
                      inferences_per_second=float(summary["inferences_per_second"]),
                      sram_bytes=_kib_to_bytes(summary["sram_memory_used"]), weight_memory=weight_memory,
                      weight_memory_bytes=_kib_to_bytes(summary[_WEIGHT_MEMORY_COLUMN[weight_memory]]),
                      layers=layers)


@dataclass(frozen=True)
class VelaStage(Stage[Compiled]):
    npu: NpuConfig
    name = "vela"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        model_bytes = upstream.output("convert").model_bytes
        return {"model_sha256": hashlib.sha256(model_bytes).hexdigest(), "npu": self.npu.model_dump(mode="json"),
                "vela_ini_sha256": hashlib.sha256(self.npu.config_file.read_bytes()).hexdigest(),
                "vela": vela_version()}

    def run(self, upstream: Upstream, scratch: Path) -> Compiled:
        compiled = compile_for_npu(upstream.output("convert").model_bytes, self.npu)
        (scratch / COMPILED_FILE).write_bytes(compiled.model_bytes)
        (scratch / RESULT_FILE).write_text(json.dumps(compiled.result.as_dict(), sort_keys=True, indent=1))
        return compiled

    def load(self, upstream: Upstream, entry: Path) -> Compiled:
        return Compiled(VelaResult.from_dict(json.loads((entry / RESULT_FILE).read_text())),
                        (entry / COMPILED_FILE).read_bytes())

    def summary(self, output: Compiled) -> dict[str, Any]:
        result = output.result
        return {"npu_ops": result.npu_op_count, "cpu_ops": len(result.cpu_layers),
                "inference_ms": round(result.inference_time_s * 1000, 4)}
