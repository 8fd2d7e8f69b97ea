"""How a failed child run becomes a check, or exit 2 when the runtime says the file is no model."""

from __future__ import annotations

import pytest

from edgebuild.base.errors import BadInput
from edgebuild.converters.artifact import read_artifact
from edgebuild.verify.child_run import failure_checks, run_model

MODEL = "/models/m.tflite"

# (the runner's message, after the model path, → the check it fails, the value, the reason)
FAILURES = [
    ("custom op Landmarks2TransformMatrix is not available in the runtime ai-edge-litert 2.3.0",
     "ops_resolved", ["Landmarks2TransformMatrix"],
     "custom op Landmarks2TransformMatrix is not available in the runtime ai-edge-litert 2.3.0"),
    ("not a model the runtime can load: Didn't find op for builtin opcode 'CONV_2D' version '99'. An older",
     "ops_resolved", ["CONV_2D version 99"],
     "builtin op CONV_2D version 99 is not available in the runtime (the model needs a newer one)"),
    ("not a model the runtime can load: Op builtin_code out of range: 250. Are you using old TFLite binary",
     "ops_resolved", ["builtin code 250"],
     "builtin op code 250 is unknown to the runtime (the model needs a newer one)"),
    ("allocate_tensors failed: tensor too big", "runs_in_runtime", False, "allocate_tensors failed: tensor too big"),
    ("invoke failed: gather index out of bounds", "runs_in_runtime", False, "invoke failed: gather index out of bounds"),
]


@pytest.mark.parametrize("what, name, value, reason", FAILURES, ids=[f[0][:30] for f in FAILURES])
def test_a_runner_error_fails_the_check_it_is_about(what, name, value, reason):
    (check,) = failure_checks(f"{MODEL}: {what}", MODEL)
    assert (check.name, check.value, check.passed, check.reason) == (name, value, False, reason)


@pytest.mark.parametrize("message", ["interpreter crashed with SIGSEGV", "timed out after 300 s",
                                     "runner exited with status 1 without a report, last said: Killed"])
def test_a_crash_or_hang_is_a_failed_run_not_a_crashed_gate(message):
    (check,) = failure_checks(message, MODEL)
    assert (check.name, check.passed, check.reason) == ("runs_in_runtime", False, message)


def test_a_file_the_runtimes_verifier_refuses_is_no_model():
    with pytest.raises(BadInput, match=r"m.tflite: not a usable TFLite model: the runtime refuses it: The model is"):
        failure_checks(f"{MODEL}: not a model the runtime can load: The model is not a valid Flatbuffer buffer", MODEL)


def test_a_model_needing_more_memory_than_the_host_has_is_not_started(model_file):
    artifact = read_artifact(model_file("float32"))
    run = run_model(artifact, threads=1, data=None, runs=1, min_seconds=0, timeout_s=30, available_memory_bytes=1)

    (check,) = run.checks
    assert run.report is None and check.name == "runs_in_runtime" and not check.passed
    assert check.reason.startswith(f"not run: it needs an estimated {artifact.arena_bytes + artifact.info.size_bytes} B")
