"""The ssh transport through a real sshd on 127.0.0.1 into a tflite-runtime 2.14 / NumPy 1.x venv."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from edgebuild.on_device_bench.transports import DeviceBenchOptions, TransportError, bench_on_device

AWKWARD_NAME = "it's a \"model\" $(x).tflite"


@pytest.fixture
def awkward_python(tmp_path, board_python) -> str:
    """The board's Python behind a path with spaces, quotes and a dollar sign."""
    folder = tmp_path / "board's \"python\" $HOME"
    folder.mkdir()
    wrapper = folder / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{board_python}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def awkward_copy(model: Path, tmp_path: Path) -> str:
    copy = tmp_path / AWKWARD_NAME
    shutil.copyfile(model, copy)
    return str(copy)


def bench(sshd, model: str, **overrides):
    settings = {"threads": 1, "runs": 20, "warmup": 3, "min_seconds": 0, "timeout_s": 60,
                "ssh_config": str(sshd.ssh_config)}
    settings.update(overrides)
    return bench_on_device(sshd.device, model, DeviceBenchOptions(**settings))


def test_int8_model_runs_on_the_board_under_tflite_runtime(sshd, int8_classifier, awkward_python, tmp_path):
    model = awkward_copy(int8_classifier, tmp_path)

    report = bench(sshd, model, python=awkward_python, threads=2)

    assert report["runtime"] == {"name": "tflite-runtime", "version": "2.14.0"}
    assert (report["device"], report["transport"]) == (sshd.device, "ssh")
    assert report["model"]["path"] == model
    assert report["runs"] >= 20 and report["warmup"] == 3 and report["threads"] == 2
    latency = report["latency_ms"]
    assert latency["p50"] <= latency["p95"] <= latency["p99"]
    assert [tensor["dtype"] for tensor in report["inputs"] + report["outputs"]] == ["int8", "int8"]
    assert list(sshd.board_tmp.iterdir()) == []


def test_float_multi_output_model_runs_on_the_board(sshd, two_in_two_out, board_python):
    report = bench(sshd, str(two_in_two_out), python=board_python)

    assert report["runtime"]["name"] == "tflite-runtime"
    assert sorted(tuple(tensor["shape"]) for tensor in report["outputs"]) == [(1, 2), (1, 5)]
    assert list(sshd.board_tmp.iterdir()) == []


def test_a_custom_op_the_board_lacks_is_named(sshd, custom_op_model, board_python):
    missing_op = "custom op BesselI0e is not available in the runtime tflite-runtime 2.14.0"
    with pytest.raises(TransportError, match=missing_op):
        bench(sshd, str(custom_op_model), python=board_python)
    assert list(sshd.board_tmp.iterdir()) == []


def test_wrong_host_is_one_line(sshd, int8_classifier, board_python):
    closed = sshd.device.rsplit(":", 1)[0] + ":1"

    with pytest.raises(TransportError, match="Connection refused") as raised:
        bench_on_device(closed, str(int8_classifier),
                        DeviceBenchOptions(python=board_python, timeout_s=30, ssh_config=str(sshd.ssh_config)))
    assert "\n" not in str(raised.value)


def test_refused_key_is_one_line(sshd, int8_classifier, board_python):
    stranger = sshd.client_config("stranger_config", identity="stranger_key")

    with pytest.raises(TransportError, match=r"Permission denied \(publickey\)") as raised:
        bench(sshd, str(int8_classifier), python=board_python, ssh_config=str(stranger))
    assert "\n" not in str(raised.value)


def test_unknown_host_key_is_refused_not_accepted(sshd, int8_classifier, board_python):
    (sshd.folder / "empty_known_hosts").write_text("")
    unknown = sshd.client_config("unknown_host_config", known_hosts="empty_known_hosts")

    with pytest.raises(TransportError, match="Host key verification failed"):
        bench(sshd, str(int8_classifier), python=board_python, ssh_config=str(unknown))
    assert (sshd.folder / "empty_known_hosts").read_text() == ""


def test_timeout_kills_the_remote_run_and_removes_its_directory(sshd, int8_classifier, tmp_path, process_ends):
    sleeper_pid = tmp_path / "sleeper.pid"
    hanging_python = tmp_path / "hanging python"
    hanging_python.write_text(f"#!/bin/sh\necho $$ > '{sleeper_pid}'\nexec sleep 60\n")
    hanging_python.chmod(0o755)
    started = time.monotonic()

    with pytest.raises(TransportError, match=r"timed out after 2 s$"):
        bench(sshd, str(int8_classifier), python=str(hanging_python), timeout_s=2)

    assert time.monotonic() - started < 15
    assert list(sshd.board_tmp.iterdir()) == []
    assert process_ends(int(sleeper_pid.read_text()))

