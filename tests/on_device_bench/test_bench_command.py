"""`edgebuild bench`: a thin shell over run_isolated and bench_on_device."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli_runner import assert_one_line_error, run_edgebuild

from edgebuild.commands.bench import command

FAST = ["--runs", "5", "--min-seconds", "0", "--json"]


def invoke(*args):
    return CliRunner().invoke(command, [str(arg) for arg in args])


def test_help_lists_the_device_forms():
    result = invoke("--help")

    assert result.exit_code == 0
    assert "ssh://user@host[:port]" in result.output and "adb:SERIAL" in result.output


def test_without_a_device_it_runs_here_with_the_profiles_threads(int8_classifier):
    result = invoke(int8_classifier, "--profile", "raspberry-pi-4", *FAST)

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["threads"] == 4 and report["runs"] >= 5
    assert "transport" not in report


def test_data_measures_top1_in_the_interpreter(float_classifier, channel_data):
    result = invoke(float_classifier, "--data", channel_data, *FAST)

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accuracy"] == {"top1": 1.0, "samples": 30}


def test_data_the_model_cannot_take_is_exit_2_naming_the_flag(float_classifier, tmp_path):
    import numpy as np

    np.savez(tmp_path / "grey.npz", x=np.zeros((6, 4, 4, 1), np.float32), y=np.arange(6) % 3)
    result = run_edgebuild("bench", str(float_classifier), "--data", "grey.npz", *FAST, cwd=tmp_path)

    assert_one_line_error(result, 2, "--data: 4x4 images with 1 channel(s)")


def test_over_ssh_into_the_board(sshd, two_in_two_out, board_python):
    result = invoke(two_in_two_out, "--device", sshd.device, "--python", board_python, "--threads", 2,
                    "--ssh-config", sshd.ssh_config, *FAST)

    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["transport"], report["threads"]) == ("ssh", 2)
    assert report["runtime"]["name"] == "tflite-runtime"


def test_human_summary(float_classifier):
    result = invoke(float_classifier, "--runs", 5, "--min-seconds", 0)

    assert result.exit_code == 0, result.output
    assert "latency ms: p50" in result.output


def test_a_failure_is_one_line_with_exit_2(tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x00" * 32)

    result = invoke(corrupt, *FAST)

    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "not a model the runtime can load" in result.output


def test_an_unknown_device_form_lists_the_known_ones(float_classifier):
    result = invoke(float_classifier, "--device", "usb:3")

    assert result.exit_code == 2
    assert "expected one of adb:SERIAL, ssh://user@host[:port]" in result.output
