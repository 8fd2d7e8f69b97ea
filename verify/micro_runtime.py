"""The TFLite Micro check of a microcontroller profile: the model run in TFLite Micro itself.

In a child process with a time limit (verify/micro_child.py), on the test split when there is one
(one synthetic sample otherwise): the arena TFLite Micro really allocated (its RecordingMicroAllocator,
`print_allocations`), top-1 measured there, whether its outputs differ from LiteRT's, and the op it
lacks when it refuses the model. Those are micro-runtime checks; the model's bytes against the
profile's flash are read off the file.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.errors import writing
from edgebuild.config.profile import DeviceProfile
from edgebuild.converters.artifact import Artifact
from edgebuild.on_device_bench.child_process import TimedOut, last_line, run_with_time_limit
from edgebuild.toolchain.datasets import save_labelled
from edgebuild.verify.checks import Check, at_least, at_most

CHILD_MODULE = "edgebuild.verify.micro_child"
MICRO_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class MicroRun:
    """The child's report: arena_bytes, samples, top1, top1_disagreements, ...; or error and missing_op."""

    report: dict[str, Any]

    @property
    def ran(self) -> bool:
        return "error" not in self.report

    @property
    def arena_bytes(self) -> int | None:
        return self.report.get("arena_bytes") if self.ran else None


def run_in_micro(artifact: Artifact, data: tuple[np.ndarray, np.ndarray] | None,
                 timeout_s: float = MICRO_TIMEOUT_S) -> MicroRun:
    """Run the model in TFLite Micro in a child; a crash, hang or refusal is a report with an error."""
    with tempfile.TemporaryDirectory(prefix="edgebuild-micro-") as scratch:
        argv = [sys.executable, "-m", CHILD_MODULE, os.path.abspath(artifact.path)]
        if data is not None:
            data_path = Path(scratch) / "data.npz"
            with writing(data_path):
                save_labelled(data_path, *data)
            argv += ["--data", str(data_path)]
        try:
            finished = run_with_time_limit(argv, timeout_s=timeout_s, cwd=scratch)
        except TimedOut as timed_out:
            return MicroRun({"error": f"TFLite Micro {timed_out}", "missing_op": None})
    if finished.returncode < 0:
        return MicroRun({"error": f"TFLite Micro crashed with signal {-finished.returncode}", "missing_op": None})
    try:
        return MicroRun(json.loads(last_line(finished.stdout)))
    except ValueError:
        said = last_line(finished.stderr) or "nothing"
        return MicroRun({"error": f"TFLite Micro's run printed no report, last said: {said}", "missing_op": None})


def micro_checks(run: MicroRun, artifact: Artifact, profile: DeviceProfile, min_top1: float) -> list[Check]:
    """What TFLite Micro decides: it runs the model (every op has a kernel), its top-1, its agreement with
    LiteRT; and the model's bytes against the profile's flash."""
    flash = at_most("micro_flash_bytes", artifact.info.size_bytes, profile.micro_runtime.flash_bytes, " B")
    if not run.ran:
        missing = run.report.get("missing_op")
        reason = (f"TFLite Micro has no kernel for {missing}: {run.report['error']}" if missing
                  else run.report["error"])
        return [Check("micro_runs", [missing] if missing else False, True, False, reason, "micro-runtime"), flash]
    checks = [Check("micro_runs", True, True, True, basis="micro-runtime"), flash, _agreement(run.report)]
    if "top1" in run.report:
        checks.append(at_least("micro_accuracy_top1", round(run.report["top1"], 4), min_top1, "micro-runtime"))
    return checks


def _agreement(report: dict[str, Any]) -> Check:
    """TFLite Micro's kernels against LiteRT's on the same inputs: a different top-1 is a port problem."""
    differ, samples, diff = report["top1_disagreements"], report["samples"], report["max_abs_output_diff"]
    detail = f"largest output difference {diff} ({report['output_dtype']}) over {samples} samples"
    reason = (f"TFLite Micro's top-1 differs from LiteRT's on {differ} of {samples} samples; {detail}" if differ
              else f"same top-1 as LiteRT; {detail}" if diff else "")
    return Check("micro_matches_litert", differ, 0, not differ, reason, "micro-runtime")


def memory_basis(run: MicroRun | None, artifact: Artifact, profile: DeviceProfile) -> tuple[int, str, str] | None:
    """(checked bytes, basis, method) of a TFLite Micro profile's RAM check; None when TFLite Micro did not run."""
    if run is None or run.arena_bytes is None:
        return None
    in_ram = profile.micro_runtime.model_in_ram
    value = run.arena_bytes + (artifact.info.size_bytes if in_ram else 0)
    method = ("checked value = the tensor arena TFLite Micro allocated (RecordingMicroAllocator)"
              + (" + the model bytes (copied to RAM)" if in_ram else "; the model is read in place from flash"))
    return value, "micro-runtime", method


def micro_runtime_version() -> str:
    return version("tflite-micro")


def micro_section(run: MicroRun) -> dict[str, Any]:
    """The report's `micro_runtime` section."""
    return {"runtime": "tflite-micro", "version": micro_runtime_version(), "basis": "micro-runtime",
            **{name: run.report.get(name) for name in ("arena_bytes", "samples", "top1", "top1_disagreements",
                                                        "max_abs_output_diff", "error", "missing_op")},
            "allocations": [line.strip() for line in run.report.get("allocations", "").splitlines() if line.strip()]}

