"""`edgebuild verify` on every kind of model, through the real CLI: the right exit code and failed checks."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from edgebuild.converters.flatbuffer import read_model_file
from edgebuild.base.host import describe_host
from edgebuild.config.profile import load_profile
from verify_cli import checks_of, report_of, verify

# (model kind, profile, the checks that must fail: none means exit 0)
CASES = [
    ("float32", "iphone", set()),
    ("float16", "iphone", set()),
    ("int8", "android-flagship", set()),
    ("multi_io", "raspberry-pi-4", set()),
    ("every_input_dtype", "raspberry-pi-4", {"input_dtype"}),
    ("custom_op", "raspberry-pi-4", {"ops_resolved"}),
    ("float32", "android-flagship", {"precision", "input_dtype", "output_dtype", "float_ops"}),
]


@pytest.mark.parametrize("kind, profile, failing", CASES, ids=[f"{kind}-{profile}" for kind, profile, _ in CASES])
def test_each_model_gets_its_exit_code_and_failed_checks(model_file, tmp_path, kind, profile, failing):
    result = verify(model_file(kind), profile, "--json", cwd=tmp_path)

    assert "Traceback" not in result.stderr
    assert result.returncode == (1 if failing else 0), result.stderr
    checks = checks_of(result)
    assert {name for name, check in checks.items() if not check["passed"]} == failing
    assert all(checks[name]["reason"] for name in failing)


@pytest.mark.parametrize("kind", ["float16", "int8", "multi_io", "every_input_dtype"])
def test_every_input_and_dtype_is_fed_and_timed(model_file, tmp_path, kind):
    path = model_file(kind)
    result = verify(path, "raspberry-pi-4", "--json", cwd=tmp_path)

    checks = checks_of(result)
    assert checks["runs_in_runtime"]["passed"] and checks["ops_resolved"]["passed"]
    assert {"host_latency_p50_ms", "host_latency_p95_ms"} <= set(checks)
    info = read_model_file(path)
    artifact = report_of(result)["artifact"]
    assert [t["dtype"] for t in artifact["inputs"]] == [t.dtype for t in info.inputs]
    assert len(artifact["outputs"]) == len(info.outputs)


def test_float16_weights_are_detected(model_file, tmp_path):
    checks = checks_of(verify(model_file("float16"), "iphone", "--json", cwd=tmp_path))
    assert checks["precision"]["value"] == "float16"


def test_a_custom_op_the_runtime_lacks_is_named(model_file, tmp_path):
    path = model_file("custom_op")
    result = verify(path, "raspberry-pi-4", "--json", cwd=tmp_path)

    (custom_op,) = read_model_file(path).custom_ops()
    check = checks_of(result)["ops_resolved"]
    assert check["value"] == [custom_op]
    assert check["reason"] == f"custom op {custom_op} is not available in the runtime ai-edge-litert {version('ai-edge-litert')}"
    assert "runs_in_runtime" not in checks_of(result)  # one cause fails one check


def test_threads_default_to_the_profile_and_can_be_overridden(model_file, tmp_path):
    profile, _ = load_profile("raspberry-pi-4")
    default = verify(model_file("int8"), "raspberry-pi-4", "--json", cwd=tmp_path)
    one = verify(model_file("int8"), "raspberry-pi-4", "--json", "--threads", "1", cwd=tmp_path)

    # The profile's threads, or this host's cores when it has fewer (the check then says so).
    assert report_of(default)["latency_ms"]["threads"] == min(profile.latency.threads, describe_host().logical_cores)
    assert report_of(one)["latency_ms"]["threads"] == 1
