"""The runner run as a child: from the installed package and from a copied folder."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

REPORT_KEYS = {
    "runtime", "model", "threads", "runs", "warmup", "init_ms", "latency_ms", "memory",
    "accuracy", "inputs", "outputs",
}
FAST = ("--runs", 20, "--min-seconds", 0, "--json")


def bench(run_runner, *args):
    finished = run_runner(*args)
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout)


def test_float_model_report_has_the_schema_and_ordered_percentiles(run_runner, float_classifier):
    report = bench(run_runner, float_classifier, *FAST, "--warmup", 2, "--threads", 2)

    assert REPORT_KEYS <= set(report)
    assert report["runtime"]["name"] == "ai-edge-litert" and report["runtime"]["version"]
    assert report["model"]["size_bytes"] == float_classifier.stat().st_size
    assert len(report["model"]["sha256"]) == 64
    assert (report["threads"], report["warmup"]) == (2, 2)
    assert report["runs"] >= 20
    latency = report["latency_ms"]
    assert 0 < latency["min"] <= latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
    assert latency["min"] <= latency["mean"] <= latency["max"]
    assert report["init_ms"] > 0
    memory = report["memory"]
    assert memory["peak_rss_bytes"] >= memory["baseline_rss_bytes"] > 0
    assert memory["model_rss_bytes"] == memory["peak_rss_bytes"] - memory["baseline_rss_bytes"]
    assert report["accuracy"] is None
    # The Keras batch dimension is dynamic (-1): the runner sizes it to 1.
    assert report["inputs"] == [{"name": report["inputs"][0]["name"], "shape": [1, 4, 4, 3], "dtype": "float32"}]
    assert report["outputs"][0]["shape"] == [1, 3]


def test_int8_model_has_int8_io(run_runner, int8_classifier):
    report = bench(run_runner, int8_classifier, *FAST)

    assert [tensor["dtype"] for tensor in report["inputs"] + report["outputs"]] == ["int8", "int8"]
    assert report["latency_ms"]["p50"] <= report["latency_ms"]["p99"]


def test_every_input_and_output_of_a_multi_io_model_is_described(run_runner, two_in_two_out):
    report = bench(run_runner, two_in_two_out, *FAST)

    assert sorted(tuple(tensor["shape"]) for tensor in report["inputs"]) == [(1, 4), (1, 6, 6, 2)]
    assert sorted(tuple(tensor["shape"]) for tensor in report["outputs"]) == [(1, 2), (1, 5)]


def test_every_input_dtype_is_fed(run_installed, every_dtype):
    report = bench(run_installed, every_dtype, *FAST)

    assert sorted(tensor["dtype"] for tensor in report["inputs"]) == sorted(
        ["float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool"]
    )


def test_timing_continues_until_both_runs_and_seconds_are_reached(run_installed, float_classifier):
    started = time.perf_counter()
    report = bench(run_installed, float_classifier, "--runs", 5, "--min-seconds", 0.5, "--json")

    assert time.perf_counter() - started >= 0.5
    # The model takes microseconds: half a second holds far more than 5 runs.
    assert report["runs"] > 5


@pytest.mark.parametrize("model_fixture", ["float_classifier", "int8_classifier"])
def test_accuracy_on_labels_the_model_must_predict(run_runner, labelled_data, model_fixture, request):
    model = request.getfixturevalue(model_fixture)
    true_labels = np.arange(30) % 3
    half_wrong = np.where(np.arange(30) < 15, true_labels, (true_labels + 1) % 3)

    right = bench(run_runner, model, *FAST, "--data", labelled_data(true_labels, true_labels, "right.npz"))
    half = bench(run_runner, model, *FAST, "--data", labelled_data(true_labels, half_wrong, "half.npz"))

    assert right["accuracy"] == {"top1": 1.0, "samples": 30}
    assert half["accuracy"] == {"top1": 0.5, "samples": 30}


def test_uint8_pixels_with_their_divisor_score_as_their_float_inputs(run_runner, channel_pixels, int8_classifier,
                                                                     tmp_path):
    # The int8 model: its input quantization saturates undivided pixels (the float one is scale-invariant).
    model = int8_classifier
    true_labels = np.arange(30) % 3
    pixels = channel_pixels(true_labels)
    raw, scaled = tmp_path / "raw.npz", tmp_path / "scaled.npz"
    np.savez(raw, x=pixels, x_divisor=np.float32(255), y=true_labels)
    np.savez(scaled, x=pixels.astype(np.float32) / np.float32(255), y=true_labels)
    # Undivided, the same bytes would read as inputs up to 255 and score otherwise.
    np.savez(tmp_path / "undivided.npz", x=pixels, y=true_labels)

    from_raw = bench(run_runner, model, *FAST, "--data", raw)["accuracy"]
    assert from_raw == bench(run_runner, model, *FAST, "--data", scaled)["accuracy"] == {"top1": 1.0, "samples": 30}
    assert bench(run_runner, model, *FAST, "--data", tmp_path / "undivided.npz")["accuracy"] != from_raw


def test_accuracy_is_null_for_a_model_with_two_inputs(run_installed, two_in_two_out, labelled_data):
    labels = np.arange(4) % 3
    report = bench(run_installed, two_in_two_out, *FAST, "--data", labelled_data(labels, labels))

    assert report["accuracy"] is None


def test_human_summary_without_json(run_installed, float_classifier):
    finished = run_installed(float_classifier, "--runs", 5, "--min-seconds", 0)

    assert finished.returncode == 0, finished.stderr
    assert "p50" in finished.stdout and "ai-edge-litert" in finished.stdout
    assert not finished.stdout.lstrip().startswith("{")


def test_board_venv_with_tflite_runtime_and_numpy_1(run_copied, board_python, int8_classifier, two_in_two_out,
                                                   labelled_data, channel_pixels, tmp_path):
    labels = np.arange(12) % 3
    np.savez(tmp_path / "raw.npz", x=channel_pixels(labels), x_divisor=np.float32(255), y=labels)
    for model in (int8_classifier, two_in_two_out):
        for data in (labelled_data(labels, labels), tmp_path / "raw.npz"):
            finished = run_copied(model, "--runs", 20, "--warmup", 3, "--min-seconds", 0, "--json",
                                  "--data", data, python=board_python)
            assert finished.returncode == 0, finished.stderr
            report = json.loads(finished.stdout)
            assert report["runtime"] == {"name": "tflite-runtime", "version": "2.14.0"}
            assert report["runs"] >= 20
            assert report["accuracy"] == ({"top1": 1.0, "samples": 12} if model == int8_classifier else None)


def assert_one_line_error(finished, exit_code, *needles):
    assert finished.returncode == exit_code
    error_lines = [line for line in finished.stderr.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == 1, finished.stderr
    assert "Traceback" not in finished.stderr
    for needle in needles:
        assert needle in error_lines[0]
    assert json.loads(finished.stdout) == {"error": error_lines[0][len("error: "):]}


def test_corrupt_model_is_one_line_exit_2(run_runner, tmp_path):
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"TFL3" + bytes(range(200)))

    assert_one_line_error(run_runner(corrupt, "--json"), 2, str(corrupt), "not a model")


def test_missing_model_is_one_line_exit_2(run_installed, tmp_path):
    assert_one_line_error(run_installed(tmp_path / "absent.tflite", "--json"), 2, "cannot read the model")


def test_unresolved_custom_op_is_named(run_runner, custom_op_model):
    assert_one_line_error(run_runner(custom_op_model, "--json"), 2, "custom op BesselI0e is not available")


@pytest.mark.parametrize(
    "arrays, needle",
    [
        ({"x": np.zeros((2, 4, 4, 3), np.float32)}, "missing array y"),
        ({"x": np.zeros((2, 5, 5, 3), np.float32), "y": np.zeros(2, np.int64)}, "model input takes [4, 4, 3]"),
        ({"x": np.zeros((2, 4, 4, 3), np.float32), "y": np.zeros(3, np.int64)}, "same number"),
        ({"x": np.zeros((2, 4, 4, 3), np.float32), "y": np.zeros(2, np.float32)}, "integer labels"),
        ({"x": np.zeros((2, 4, 4, 3), np.uint8), "y": np.zeros(2, np.int64), "x_divisor": np.float32(0)},
         "x_divisor must be one float32 number > 0"),
        ({"x": np.zeros((2, 4, 4, 3), np.uint8), "y": np.zeros(2, np.int64), "x_divisor": np.ones(2, np.float32)},
         "x_divisor must be one float32 number > 0"),
    ],
)
def test_bad_data_is_one_line_exit_2(run_installed, float_classifier, tmp_path, arrays, needle):
    data = tmp_path / "bad.npz"
    np.savez(data, **arrays)

    assert_one_line_error(run_installed(float_classifier, "--json", "--data", data), 2, str(data), needle)


def test_data_that_is_not_an_npz_is_one_line_exit_2(run_installed, float_classifier, tmp_path):
    data = tmp_path / "notes.npz"
    data.write_text("not an archive")

    assert_one_line_error(run_installed(float_classifier, "--json", "--data", data), 2, str(data))


def test_watchdog_ends_a_run_that_is_too_long_with_exit_3(run_runner, float_classifier):
    finished = run_runner(float_classifier, "--runs", 10**9, "--timeout", 0.5, "--json")

    assert_one_line_error(finished, 3, "timed out after 0.5 s")
