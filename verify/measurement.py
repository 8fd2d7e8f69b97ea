"""What a build measures of its artifact in the interpreter, cached by the converted model's bytes.

A rebuild whose conversion reran but gave the same bytes (a QAT model ignores the representative
set: 100 and 200 samples give one sha256 on digits), or whose change touched only verify limits,
reuses the measurement instead of spending another 1.3 s of interpreter runs; the checks are always
recomputed from it. The key is the model without edgebuild's metadata (which names the recipe's hash,
so it changes with any recipe edit, but the interpreter never reads it), the data, the timing
settings, the runtime's version and the host. A run that failed is never stored.
`edgebuild verify`, the release gate on a file, always measures afresh.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.on_device_bench import local
from edgebuild.toolchain.cache import StageCache, cache_key, code_version
from edgebuild.verify import child_run
from edgebuild.verify.checks import Check, read_artifact
from edgebuild.verify.child_run import (DEFAULT_MIN_SECONDS, DEFAULT_RUNS, DEFAULT_TIMEOUT_S, ChildRun,
                                        run_model)
from edgebuild.verify.host import describe_host


@dataclass(frozen=True)
class Measurement:
    run: ChildRun
    accuracy_all_data: float | None  # top-1 on every sample, train split included
    key: str
    reused: bool

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "reused": self.reused,
                "of": "sha256 of the converted model without edgebuild's metadata, the data, timing settings, "
                      "runtime version and host"}


def measure_cached(path: Path, model_bytes: bytes, threads: int, dataset, cache: StageCache,
                   versions: dict) -> Measurement:
    """The measurement of the artifact at `path`, whose converted model (without metadata) is `model_bytes`."""
    key = cache_key(_inputs(model_bytes, threads, dataset, versions))
    with cache.locked(key):
        stored = cache.read_json(key)
        if stored is not None:
            stored["report"]["model"]["path"] = str(path)
            run = ChildRun(stored["report"], tuple(Check(**check) for check in stored["checks"]))
            return Measurement(run, stored["accuracy_all_data"], key, True)
        run = run_model(read_artifact(path), threads=threads, data=(dataset.x_test, dataset.y_test),
                        runs=DEFAULT_RUNS, min_seconds=DEFAULT_MIN_SECONDS, timeout_s=DEFAULT_TIMEOUT_S,
                        available_memory_bytes=describe_host().available_memory_bytes)
        if run.report is None:
            return Measurement(run, None, key, False)
        all_data = _all_data_accuracy(path, dataset)
        cache.write_json(key, "measure", {"report": run.report, "checks": [asdict(check) for check in run.checks],
                                          "accuracy_all_data": all_data})
        return Measurement(run, all_data, key, False)


def _inputs(model_bytes: bytes, threads: int, dataset, versions: dict) -> dict[str, Any]:
    data = hashlib.sha256(np.ascontiguousarray(dataset.x_test).tobytes() + dataset.y_test.tobytes())
    return {"stage": "measure", "code": code_version(__file__, child_run.__file__, local.__file__),
            "model_sha256": hashlib.sha256(model_bytes).hexdigest(), "data_sha256": dataset.sha256,
            "test_split_sha256": data.hexdigest(), "threads": threads, "runs": DEFAULT_RUNS,
            "min_seconds": DEFAULT_MIN_SECONDS,
            "host": describe_host().identity(),
            "versions": {name: versions.get(name) for name in ("ai-edge-litert", "numpy", "edgebuild")}}


def _all_data_accuracy(path: Path, dataset) -> float | None:
    with tempfile.TemporaryDirectory(prefix="edgebuild-all-") as scratch:
        npz = Path(scratch) / "all.npz"
        np.savez(npz, x=dataset.x_all.astype(np.float32), y=dataset.y_all.astype(np.int64))
        try:
            measured = local.run_isolated(path, runs=1, min_seconds=0.0, warmup=0, data_path=npz)
        except local.RunnerFailed:  # the measured run already reported why the model cannot run
            return None
    return measured["accuracy"]["top1"] if measured.get("accuracy") else None
