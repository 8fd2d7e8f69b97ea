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


def test_unknown_vela_system_config_names_the_field(tmp_path):
    path = _edited(tmp_path, "alif-ensemble-e7", "system_config: Alif_Ensemble_E7_HP", "system_config: Alif_E9")
    with pytest.raises(BadInput, match=r"npu\.system_config: expected one of \[.*'Alif_Ensemble_E7_HP'.*got 'Alif_E9'"):
        load_profile(path)


def test_unknown_accelerator_names_the_field(tmp_path):
    path = _edited(tmp_path, "nxp-imx93", "accelerator_config: ethos-u65-256", "accelerator_config: ethos-u65-64")
    with pytest.raises(BadInput, match=r"npu\.accelerator_config: "):
        load_profile(path)


def test_a_micro_profile_has_one_ram_budget(tmp_path):
    path = _edited(tmp_path, "cortex-m7", "  gzip_bytes: 524288          # 512 KiB\n",
                   "  gzip_bytes: 524288\n  peak_memory_bytes: 1000\n")
    with pytest.raises(BadInput, match=r"budgets\.peak_memory_bytes: expected exactly one RAM budget"):
        load_profile(path)


def test_micro_runtime_budgets_must_be_positive(tmp_path):
    path = _edited(tmp_path, "cortex-m7", "ram_bytes: 262144", "ram_bytes: 0")
    with pytest.raises(BadInput, match=r"micro_runtime\.ram_bytes: "):
        load_profile(path)
