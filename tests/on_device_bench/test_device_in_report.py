"""`build --device`: the board's numbers land in the report as device checks beside the host ones."""

from __future__ import annotations

import json
import shutil

from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE


def _build_with_device(tmp_path, tiny_build, device: str, python: str, ssh_config: str):
    shutil.copytree(tiny_build / "cache", tmp_path / "cache")
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    return run_edgebuild("build", "tiny.yaml", "--profile", "raspberry-pi-4", "--out", "out", "--device", device,
                         "--device-python", python, "--ssh-config", str(ssh_config), cwd=tmp_path)


def test_ssh_board_latency_becomes_device_checks(tmp_path, tiny_build, sshd, board_python):
    result = _build_with_device(tmp_path, tiny_build, sshd.device, board_python, sshd.ssh_config)
    report = json.loads((tmp_path / "out/tiny/raspberry-pi-4/report.json").read_text())
    checks = {check["name"]: check for check in report["checks"]}
    assert checks["device_run"]["passed"], checks["device_run"]["reason"]
    assert checks["device_latency_p50_ms"]["value"] > 0 and "host_latency_p50_ms" in checks
    assert report["device"]["runtime"]["name"] == "tflite-runtime"
    assert result.returncode == (0 if report["passed"] else 1)


def test_unreachable_board_is_a_failed_check_not_a_crash(tmp_path, tiny_build, sshd, board_python):
    wrong = sshd.device.replace("127.0.0.1", "127.0.0.2").rsplit(":", 1)[0] + ":1"
    result = _build_with_device(tmp_path, tiny_build, wrong, board_python, sshd.ssh_config)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    report = json.loads((tmp_path / "out/tiny/raspberry-pi-4/report.json").read_text())
    failed = [check for check in report["checks"] if not check["passed"]]
    assert [check["name"] for check in failed] == ["device_run"] and wrong in failed[0]["reason"]


def _verify_on_the_board(tmp_path, tiny_build, sshd, board_python, profile: str):
    model = tiny_build / "out/tiny/android-flagship/model.tflite"
    result = run_edgebuild("verify", str(model), "--profile", profile, "--runs", "5", "--min-seconds", "0",
                           "--device", sshd.device, "--device-python", board_python,
                           "--ssh-config", str(sshd.ssh_config), "--json", cwd=tmp_path)
    report = json.loads(result.stdout)
    return result, report, {check["name"]: check for check in report["checks"]}


def test_verify_gates_on_the_board_too(tmp_path, tiny_build, sshd, board_python):
    result, report, checks = _verify_on_the_board(tmp_path, tiny_build, sshd, board_python, "raspberry-pi-4")
    assert checks["device_run"]["passed"] and checks["device_latency_p95_ms"]["value"] > 0
    assert result.returncode == (0 if report["passed"] else 1)


def test_a_measured_device_replaces_a_predicted_latency(tmp_path, tiny_build, sshd, board_python):
    _, report, checks = _verify_on_the_board(tmp_path, tiny_build, sshd, board_python, "galaxy-s24")
    assert checks["device_latency_p50_ms"]["ran"] and checks["device_latency_p50_ms"]["value"] > 0
    predicted = checks["predicted_latency_p50_ms"]
    assert not predicted["ran"] and "superseded by the latency measured on the device" in predicted["reason"]
    assert report["predicted_latency"]["p50_ms"] > 0  # still reported, no longer judged
