"""The Edge TPU compile check of a Coral profile: `edgetpu_compiler` maps the ops it can to the TPU.

The compiler is Linux x86-64 only and not on PyPI; where it is not on PATH the check is reported as
not run (never as passed). Where it is, its log's op counts decide: every op on the Edge TPU, or the
ones left to the CPU are named by count. The compiler writes `<name>_edgetpu.tflite` and a log.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

from edgebuild.on_device_bench.child_process import TimedOut, last_line, run_with_time_limit
from edgebuild.verify.checks import Check, not_run

COMPILER = "edgetpu_compiler"
COMPILE_TIMEOUT_S = 300.0
# edgetpu_compiler's summary lines (Coral, "Edge TPU Compiler", compiler output)
_ON_TPU = re.compile(r"Number of operations that will run on Edge TPU: (\d+)")
_ON_CPU = re.compile(r"Number of operations that will run on CPU: (\d+)")


def edgetpu_checks(model: Path) -> list[Check]:
    compiler = shutil.which(COMPILER)
    if compiler is None:
        return [not_run("edgetpu_compile", 0, f"edgetpu compile: not run ({COMPILER} not installed)",
                        "vendor-estimate")]
    with tempfile.TemporaryDirectory(prefix="edgebuild-edgetpu-") as out:
        try:
            finished = run_with_time_limit([compiler, "--out_dir", out, str(model.resolve())],
                                           timeout_s=COMPILE_TIMEOUT_S, cwd=out)
        except TimedOut as timed_out:
            return [Check("edgetpu_compile", None, 0, False, f"{COMPILER} {timed_out}", "vendor-estimate")]
    on_tpu, on_cpu = _ON_TPU.search(finished.stdout), _ON_CPU.search(finished.stdout)
    if finished.returncode != 0 or not (on_tpu and on_cpu):
        said = last_line(finished.stderr) or last_line(finished.stdout) or "nothing"
        return [Check("edgetpu_compile", None, 0, False, f"{COMPILER} failed (status {finished.returncode}): {said}",
                      "vendor-estimate")]
    cpu = int(on_cpu[1])
    reason = f"{cpu} of {cpu + int(on_tpu[1])} ops run on the CPU, not the Edge TPU" if cpu else ""
    return [Check("edgetpu_compile", cpu, 0, not cpu, reason, "vendor-estimate")]
