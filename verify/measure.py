"""The measure stage: the converted model run in the interpreter (latency, memory, top-1), cached by
its bytes.

A rebuild whose conversion reran but gave the same bytes (a QAT model ignores the representative
set: 100 and 200 samples give one sha256 on digits), or whose change touched only verify limits,
reuses the measurement instead of spending another 1.3 s of interpreter runs; the checks are always
recomputed from it. The key is the model without edgebuild's metadata (which names the recipe's hash,
so it changes with any recipe edit, but the interpreter never reads it), the prepared data, the
timing settings, the runtime's version, the host and the runner's own code (which runs in a child
process, so it is named as a code root). A run that failed is never stored.
`edgebuild verify`, the release gate on a file, always measures afresh.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.host import describe_host
from edgebuild.base.stage import Stage, Unstored, Upstream
from edgebuild.converters.artifact import read_artifact
from edgebuild.on_device_bench import local
from edgebuild.toolchain.datasets import save_labelled
from edgebuild.verify.checks import Check
from edgebuild.verify.child_run import DEFAULT_MIN_SECONDS, DEFAULT_RUNS, DEFAULT_TIMEOUT_S, ChildRun, run_model

RESULT_FILE = "measurement.json"
MEASURED_OF = ("sha256 of the converted model without edgebuild's metadata, the prepared data, timing settings, "
               "runtime version, host and the runner's code")


@dataclass(frozen=True)
class Measurement:
    run: ChildRun
    accuracy_all_data: float | None  # top-1 on every sample, train split included


@dataclass(frozen=True)
class MeasureStage(Stage[Measurement]):
    threads: int
    versions: dict[str, str]
    name = "measure"

    def code_roots(self) -> tuple[str, ...]:
        return (__name__, f"{local.RUNNER_MODULE}.__main__")

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        model_bytes = upstream.output("convert").model_bytes
        return {"model_sha256": hashlib.sha256(model_bytes).hexdigest(), "upstream": {"data": upstream.key("data")},
                "threads": self.threads, "runs": DEFAULT_RUNS, "min_seconds": DEFAULT_MIN_SECONDS,
                "host": describe_host().identity(),
                "versions": {name: self.versions.get(name) for name in ("ai-edge-litert", "numpy")}}

    def run(self, upstream: Upstream, scratch: Path) -> Measurement:
        dataset = upstream.output("data")
        with tempfile.TemporaryDirectory(prefix="edgebuild-measure-") as folder:
            path = Path(folder) / "model.tflite"
            path.write_bytes(upstream.output("convert").model_bytes)
            run = run_model(read_artifact(path), threads=self.threads, data=(dataset.x_test, dataset.y_test),
                            runs=DEFAULT_RUNS, min_seconds=DEFAULT_MIN_SECONDS, timeout_s=DEFAULT_TIMEOUT_S,
                            available_memory_bytes=describe_host().available_memory_bytes)
            if run.report is None:  # the checks say why; a later build tries again
                raise Unstored(Measurement(run, None))
            measurement = Measurement(run, _all_data_accuracy(path, dataset))
        document = {"report": run.report, "checks": [asdict(check) for check in run.checks],
                    "accuracy_all_data": measurement.accuracy_all_data}
        (scratch / RESULT_FILE).write_text(json.dumps(document, sort_keys=True, indent=1))
        return measurement

    def load(self, upstream: Upstream, entry: Path) -> Measurement:
        stored = json.loads((entry / RESULT_FILE).read_text())
        run = ChildRun(stored["report"], tuple(Check(**check) for check in stored["checks"]))
        return Measurement(run, stored["accuracy_all_data"])


def _all_data_accuracy(path: Path, dataset) -> float | None:
    with tempfile.TemporaryDirectory(prefix="edgebuild-all-") as scratch:
        npz = Path(scratch) / "all.npz"
        save_labelled(npz, dataset.x_all, dataset.y_all)
        try:
            measured = local.run_isolated(path, runs=1, min_seconds=0.0, warmup=0, data_path=npz)
        except local.RunnerFailed:  # the measured run already reported why the model cannot run
            return None
    return measured["accuracy"]["top1"] if measured.get("accuracy") else None
