"""The digits recipe built for the Ethos-U and TFLite Micro profiles: what ships, and why it passes."""

from __future__ import annotations

import hashlib
import json

import pytest

from cli_runner import run_edgebuild

ETHOS_U = ("alif-ensemble-e7", "grove-vision-ai-v2", "nxp-imx93")


@pytest.mark.slow
def test_digits_builds_for_each_device_tool_profile(tmp_path):
    profiles = (*ETHOS_U, "cortex-m7")
    result = run_edgebuild("build", "digits", *(arg for name in profiles for arg in ("--profile", name)),
                           "--out", "out", "--json", cwd=tmp_path, timeout=3600)
    assert "Traceback" not in result.stdout + result.stderr
    summaries = {summary["profile"]: summary for summary in json.loads(result.stdout.splitlines()[-1])["profiles"]}
    for name in profiles:
        folder = tmp_path / "out" / "digits" / name
        report = json.loads((folder / "report.json").read_text())
        checks = {check["name"]: check for check in report["checks"]}
        assert summaries[name]["passed"] == report["passed"]
        failed = [check["reason"] for check in checks.values() if check["ran"] and not check["passed"]]
        assert report["passed"] or failed  # a failure says why
        if name in ETHOS_U:
            compiled = (folder / "model_vela.tflite").read_bytes()
            assert hashlib.sha256(compiled).hexdigest() == report["npu"]["compiled"]["sha256"]
            assert checks["npu_ops_share"]["value"] == 1.0  # every op of the digits student runs on the NPU
            assert checks["npu_inference_ms"]["basis"] == "vendor-estimate"
        else:
            assert not (folder / "model_vela.tflite").exists()
            assert checks["peak_memory_bytes"]["value"] == report["micro_runtime"]["arena_bytes"]
            assert checks["micro_accuracy_top1"]["value"] == round(report["micro_runtime"]["top1"], 4)
