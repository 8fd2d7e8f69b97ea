"""Microcontroller profiles: the model is run in TFLite Micro, and the arena in the report is its own."""

from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from verify_cli import checks_by_name, report_of, verify


def _print_allocations_total(model) -> int:
    """What TFLite Micro's print_allocations itself writes (to the C-level stderr) after one invoke."""
    from tflite_micro import runtime

    interpreter = runtime.Interpreter.from_file(str(model), arena_size=1 << 22)
    detail = interpreter.get_input_details(0)
    interpreter.set_input(np.zeros(detail["shape"], detail["dtype"]), 0)
    interpreter.invoke()
    with tempfile.TemporaryFile() as capture:
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            interpreter.print_allocations()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        printed = capture.read().decode()
    return int(re.search(r"Arena allocation total (\d+) bytes", printed)[1])


def test_the_arena_in_the_report_is_what_print_allocations_prints(model_file, tmp_path):
    model = model_file("int8")
    result = verify(model, "cortex-m7", "--data", "sklearn:digits", "--json", cwd=tmp_path)

    report = report_of(result)
    checks = checks_by_name(report)
    arena = _print_allocations_total(model)
    assert report["micro_runtime"]["arena_bytes"] == arena
    assert checks["peak_memory_bytes"]["value"] == arena and checks["peak_memory_bytes"]["basis"] == "micro-runtime"
    assert arena != report["memory"]["estimated_arena_bytes"]  # measured, not the estimate renamed
    assert checks["micro_flash_bytes"]["value"] == model.stat().st_size
    micro = report["micro_runtime"]
    assert micro["samples"] == report["accuracy"]["samples"] == 1797
    # TFLite Micro's top-1 is measured there: equal to LiteRT's when no sample's top-1 differs.
    if micro["top1_disagreements"] == 0:
        assert checks["micro_accuracy_top1"]["value"] == checks["accuracy_top1"]["value"]
    assert checks["micro_matches_litert"]["value"] == micro["top1_disagreements"]


def test_gelu_fails_the_micro_check_naming_it(model_file, tmp_path):
    model = model_file("gelu_between_convolutions")
    result = verify(model, "cortex-m7", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    report = report_of(result)
    check = checks_by_name(report)["micro_runs"]
    assert not check["passed"] and check["value"] == ["GELU"] and check["basis"] == "micro-runtime"
    assert "TFLite Micro has no kernel for GELU" in check["reason"]
    assert checks_by_name(report)["peak_memory_bytes"]["basis"] == "estimate"  # no arena was allocated


def test_tflite_micro_scores_8_bit_pixels_with_their_divisor_as_their_float_inputs(model_file, tmp_path):
    import json
    import subprocess
    import sys

    model = model_file("int8")
    pixels = np.random.default_rng(0).integers(0, 256, (40, 8, 8, 1), dtype=np.uint8)
    labels = np.arange(40) % 10
    np.savez(tmp_path / "raw.npz", x=pixels, x_divisor=np.float32(16), y=labels)  # inputs 0..16, as digits
    np.savez(tmp_path / "scaled.npz", x=pixels.astype(np.float32) / np.float32(16), y=labels)

    def micro_report(data):
        finished = subprocess.run([sys.executable, "-m", "edgebuild.verify.micro_child", str(model), "--data",
                                   str(data)], capture_output=True, text=True, check=True)
        return json.loads(finished.stdout.strip().splitlines()[-1])

    from_raw = micro_report(tmp_path / "raw.npz")
    assert from_raw["samples"] == 40 and "error" not in from_raw
    assert from_raw == micro_report(tmp_path / "scaled.npz")
