"""Ethos-U profiles: the gate's Vela numbers are the ones the real `vela` CLI prints and writes."""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from edgebuild.config.profile import load_profile
from verify_cli import checks_by_name, report_of, verify


def _vela_cli(model: Path, profile_name: str, out: Path) -> tuple[str, dict[str, str]]:
    """What `vela` itself prints and writes in its summary CSV for this file and the profile's config."""
    npu = load_profile(profile_name)[0].npu
    # Beside this interpreter, or on PATH (a venv over the system site-packages has its scripts there).
    vela = shutil.which("vela", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    assert vela, "the vela command of ethos-u-vela is not installed"
    printed = subprocess.run([vela, str(model), "--output-dir", str(out), "--config", str(npu.config_file),
                              "--accelerator-config", npu.accelerator_config, "--system-config", npu.system_config,
                              "--memory-mode", npu.memory_mode], capture_output=True, text=True, check=True).stdout
    with open(out / f"{model.stem}_summary_{npu.system_config}.csv") as summary:
        return printed, next(csv.DictReader(summary))


def _printed_count(printed: str, where: str) -> int:
    return int(re.search(rf"{where} operators = (\d+)", printed)[1])


@pytest.mark.parametrize("kind, profile", [("int8", "alif-ensemble-e7"), ("sin_between_convolutions", "nxp-imx93")])
def test_vela_numbers_in_the_report_are_vela_s_own(model_file, tmp_path, kind, profile):
    model = model_file(kind)
    result = verify(model, profile, "--json", cwd=tmp_path)
    npu = report_of(result)["npu"]
    printed, summary = _vela_cli(model, profile, tmp_path / "vela")

    assert (npu["npu_ops"], npu["cpu_ops"]) == (_printed_count(printed, "NPU"), _printed_count(printed, "CPU"))
    assert npu["npu_ops"] > 0
    assert npu["inference_ms"] == round(float(summary["inference_time"]) * 1000, 6)
    assert npu["sram_bytes"] == round(float(summary["sram_memory_used"]) * 1024)
    column = {"Off-chip Flash": "off_chip_flash_memory_used", "DRAM": "dram_memory_used"}[npu["weight_memory"]]
    assert npu["weight_memory_bytes"] == round(float(summary[column]) * 1024) > 0
    checks = checks_by_name(report_of(result))
    assert checks["npu_inference_ms"]["value"] == npu["inference_ms"]
    assert checks["npu_sram_bytes"]["value"] == npu["sram_bytes"]
    assert checks["npu_flash_bytes"]["value"] == npu["weight_memory_bytes"]
    assert {layer["target"] for layer in npu["layers"]} >= {"NPU"}


def test_sin_between_convolutions_fails_the_npu_check_naming_sin(model_file, tmp_path):
    result = verify(model_file("sin_between_convolutions"), "alif-ensemble-e7", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    check = checks_by_name(report_of(result))["npu_ops_share"]
    assert not check["passed"] and check["basis"] == "vendor-estimate"
    assert re.search(r"Sin '[^']*between/Sin' \(SIN: Unsupported opType\)", check["reason"])
    assert "Conv2D" not in check["reason"]  # the convolutions around it stay on the NPU


def test_a_float_model_fails_on_an_ethos_u_profile_with_its_cpu_ops_named(model_file, tmp_path):
    result = verify(model_file("float32"), "alif-ensemble-e7", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    check = checks_by_name(report_of(result))["npu_ops_share"]
    assert not check["passed"] and check["value"] == 0.0
    assert check["reason"].startswith("3 of 3 ops run on the CPU") and "FullyConnected" in check["reason"]


def test_cpu_fallback_passes_where_the_profile_allows_it_and_is_named(model_file, tmp_path):
    result = verify(model_file("float32"), "grove-vision-ai-v2", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    checks = checks_by_name(report_of(result))
    # The profile allows CPU fallback, so placement alone passes, naming every op; float ops fail.
    assert checks["npu_ops_share"]["passed"] and checks["npu_ops_share"]["value"] == 0.0
    assert "Conv2D" in checks["npu_ops_share"]["reason"] and "Float32" in checks["npu_ops_share"]["reason"]
    assert not checks["npu_inference_ms"]["ran"]  # nothing on the NPU: Vela estimates no time
    assert not checks["float_ops"]["passed"]
