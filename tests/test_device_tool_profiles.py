"""Profiles that name their device-side tool: Vela for Ethos-U NPUs, TFLite Micro for microcontrollers."""

from __future__ import annotations

import re
import subprocess
import sys
import typing

import pytest

from edgebuild.base.errors import BadInput
from edgebuild.config.profile import AcceleratorConfig, load_profile, vela_sections
from test_profiles import ETHOS_U


def _edited(tmp_path, name: str, old: str, new: str) -> str:
    _, path = load_profile(name)
    text = path.read_text()
    assert old in text
    edited = tmp_path / f"{name}.yaml"
    edited.write_text(text.replace(old, new))
    return str(edited)


def test_accelerator_configs_are_the_ones_vela_knows():
    said = subprocess.run([sys.executable, "-m", "ethosu.vela", "--help"], capture_output=True, text=True).stdout
    listed = re.search(r"--accelerator-config \{([^}]*)\}", said)[1].split(",")
    assert set(typing.get_args(AcceleratorConfig)) == set(listed)


@pytest.mark.parametrize("name", ETHOS_U)
def test_ethos_u_profiles_name_a_vela_system(name):
    profile, _ = load_profile(name)
    assert profile.npu is not None and profile.micro_runtime is None
    assert profile.npu.system_config in vela_sections("System_Config")
    assert profile.npu.config_file.name == "vela.ini"
    assert profile.ops.allow is None  # Vela decides which ops run where


def test_cortex_m7_runs_on_tflite_micro():
    profile, _ = load_profile("cortex-m7")
    assert profile.micro_runtime is not None and profile.npu is None
    assert profile.budgets.peak_memory_bytes is None
    assert profile.memory_budget_bytes == profile.micro_runtime.ram_bytes


@pytest.mark.parametrize("profile, old, new, error", [
    ("alif-ensemble-e7", "system_config: Alif_Ensemble_E7_HP", "system_config: Alif_E9",
     r"npu\.system_config: expected one of \[.*'Alif_Ensemble_E7_HP'.*got 'Alif_E9'"),
    ("nxp-imx93", "accelerator_config: ethos-u65-256", "accelerator_config: ethos-u65-64", r"npu\.accelerator_config: "),
    ("nxp-imx93", "memory_mode: Dedicated_Sram_256KB", "memory_mode: Dedicated_Sram_384KB",
     # Vela's own, but not in the ini of the device's system config: Vela reads one file
     r"npu: memory_mode 'Dedicated_Sram_384KB' and system_config 'NXP_iMX93' are defined in different Vela ini"),
    ("cortex-m7", "  gzip_bytes: 524288          # 512 KiB\n", "  gzip_bytes: 524288\n  peak_memory_bytes: 1000\n",
     r"budgets\.peak_memory_bytes: expected exactly one RAM budget"),
    ("cortex-m7", "ram_bytes: 262144", "ram_bytes: 0", r"micro_runtime\.ram_bytes: "),
])
def test_a_bad_device_tool_setting_names_its_field(tmp_path, profile, old, new, error):
    with pytest.raises(BadInput, match=error):
        load_profile(_edited(tmp_path, profile, old, new))
