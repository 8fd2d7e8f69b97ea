"""The model run in a child process with a time limit, and what a failure of that run means.

Exit 2 is for files that are no model: the static reader refuses them, or the runtime's own
flatbuffer verifier does ("not a model the runtime can load"). A file that is a model but that the
runtime cannot prepare or run — an op it lacks, allocate_tensors or invoke failing, a crash, a
hang, more memory than the host has — is a failed check (exit 1): the model is what is wrong with
the release, and the gate reports it like any other broken limit.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.errors import BadInput, writing
from edgebuild.on_device_bench.local import RunnerFailed, run_isolated
from edgebuild.converters.artifact import Artifact
from edgebuild.toolchain.datasets import save_labelled
from edgebuild.verify.checks import Check

# The runner's prefix for a file the runtime refuses to load (on_device_bench/loading.py).
_RUNTIME_REFUSED = "not a model the runtime can load: "
# An op the runtime lacks: the runner's message for custom ops (loading.py), then LiteRT's own for
# a builtin op newer than it (an op version, or an op code it does not know).
_CUSTOM_OP = re.compile(r"custom op (?P<op>\S+) is not available in the runtime .*")
_BUILTIN_VERSION = re.compile(r"Didn't find op for builtin opcode '(?P<op>\w+)' version '(?P<version>\d+)'")
_BUILTIN_CODE = re.compile(r"Op builtin_code out of range: (?P<code>\d+)")
# Like LiteRT's benchmark_model: at least 50 runs and at least 1 s.
DEFAULT_RUNS, DEFAULT_MIN_SECONDS, DEFAULT_TIMEOUT_S = 50, 1.0, 300.0


@dataclass(frozen=True)
class ChildRun:
    """The runner's report when the model ran (None when not), and the checks the run decides."""

    report: dict[str, Any] | None
    checks: tuple[Check, ...]


def run_model(artifact: Artifact, *, threads: int, data: tuple[np.ndarray, np.ndarray] | None, runs: int,
              min_seconds: float, timeout_s: float, available_memory_bytes: int | None) -> ChildRun:
    """Run the model in a child; raises BadInput only when the runtime refuses the file as no model."""
    needed_bytes = artifact.arena_bytes + artifact.info.size_bytes
    if available_memory_bytes is not None and needed_bytes > available_memory_bytes:
        # Started anyway, it would swap the host to a halt or be killed by the OOM killer.
        return ChildRun(None, (_did_not_run(f"not run: it needs an estimated {needed_bytes} B (model and "
                                            f"tensor arena), more than the {available_memory_bytes} B this "
                                            f"host has available"),))
    with tempfile.TemporaryDirectory(prefix="edgebuild-verify-") as scratch:
        data_path = None
        if data is not None:
            data_path = Path(scratch) / "data.npz"
            with writing(data_path):
                save_labelled(data_path, *data)
        try:
            report = run_isolated(str(artifact.path), runs=runs, min_seconds=min_seconds, threads=threads,
                                  data_path=data_path, timeout_s=timeout_s)
        except RunnerFailed as error:
            return ChildRun(None, failure_checks(str(error), artifact.path))
    return ChildRun(report, (Check("ops_resolved", [], [], True, basis="host"),
                             Check("runs_in_runtime", True, True, True, basis="host")))


def failure_checks(message: str, path: Path) -> tuple[Check, ...]:
    """The check a runner failure fails; a check that needs the failed step (latency) is left out."""
    what = message.removeprefix(f"{os.path.abspath(path)}: ")
    unresolved = _unresolved_op(what)
    if unresolved is not None:
        op, reason = unresolved
        return (Check("ops_resolved", [op], [], False, reason, "host"),)
    if what.startswith(_RUNTIME_REFUSED):
        raise BadInput(f"{path}: not a usable TFLite model: the runtime refuses it: {what[len(_RUNTIME_REFUSED):]}")
    return (_did_not_run(what),)


def _unresolved_op(what: str) -> tuple[str, str] | None:
    """(op, reason) when the runtime lacks an op the model uses."""
    if found := _CUSTOM_OP.search(what):
        return found["op"], found[0]
    if found := _BUILTIN_VERSION.search(what):
        op = f"{found['op']} version {found['version']}"
        return op, f"builtin op {op} is not available in the runtime (the model needs a newer one)"
    if found := _BUILTIN_CODE.search(what):
        op = f"builtin code {found['code']}"
        return op, f"builtin op code {found['code']} is unknown to the runtime (the model needs a newer one)"
    return None


def _did_not_run(reason: str) -> Check:
    return Check("runs_in_runtime", False, True, False, reason, "host")
