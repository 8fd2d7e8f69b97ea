"""The bundled device profiles load, are internally consistent, and say what each device needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgebuild.config.profile import DeviceProfile, load_profile, profile_names

ETHOS_U = ("alif-ensemble-e7", "grove-vision-ai-v2", "nxp-imx93")
EXPECTED = {
    *ETHOS_U,
    "android-budget",
    "android-flagship",
    "coral-edgetpu",
    "cortex-m7",
    "iphone",
    "raspberry-pi-4",
}
FULL_INTEGER = ("android-flagship", "android-budget", "coral-edgetpu", "cortex-m7", *ETHOS_U)


def _builtin_op_names() -> set[str]:
    from ai_edge_litert.schema_py_generated import BuiltinOperator

    return {name for name in vars(BuiltinOperator) if name.isupper()}


def _load(name: str) -> tuple[DeviceProfile, Path]:
    profile, path = load_profile(name)
    assert isinstance(profile, DeviceProfile)
    return profile, path


def test_every_expected_profile_is_bundled():
    assert EXPECTED <= set(profile_names())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_profile_is_consistent(name):
    profile, path = _load(name)
    assert profile.name == path.stem == name
    assert path.suffix == ".yaml"
    assert profile.description.strip()
    assert profile.budgets.gzip_bytes <= profile.budgets.size_bytes
    assert profile.latency.p50_ms <= profile.latency.p95_ms
    # Every precision a profile accepts must have an I/O dtype it can use.
    for precision in profile.precisions:
        assert profile.io_dtype_for(precision) is not None, (name, precision)


@pytest.mark.parametrize("name", FULL_INTEGER)
def test_integer_accelerators_require_full_integer(name):
    profile, _ = _load(name)
    assert profile.requires_full_integer
    assert profile.precisions == ("int8",)
    assert "float32" not in profile.io_dtypes


def test_default_profile_is_full_int8_with_int8_io():
    profile, _ = _load("android-flagship")
    assert profile.requires_full_integer
    assert profile.io_dtypes[0] == "int8"


def test_iphone_prefers_float16():
    profile, _ = _load("iphone")
    assert not profile.requires_full_integer
    assert "float16" in profile.precisions
    assert profile.precisions[0] == "float16"
    assert profile.io_dtype_for("float16") == "float32"


def test_not_every_profile_prefers_int8():
    firsts = {name: _load(name)[0].precisions[0] for name in EXPECTED}
    assert any(first != "int8" for first in firsts.values()), firsts


def test_budget_android_is_tighter_than_flagship():
    budget, _ = _load("android-budget")
    flagship, _ = _load("android-flagship")
    assert budget.budgets.size_bytes < flagship.budgets.size_bytes
    assert budget.budgets.gzip_bytes < flagship.budgets.gzip_bytes
    assert budget.budgets.peak_memory_bytes < flagship.budgets.peak_memory_bytes


def test_microcontroller_budgets_fit_the_chip():
    profile, _ = _load("cortex-m7")
    flash, sram = 2 * 1024 * 1024, 1024 * 1024  # STM32H743
    assert profile.budgets.size_bytes <= flash // 2
    assert profile.memory_budget_bytes <= sram // 2
    assert profile.latency.threads == 1
    assert profile.ops.allow


def test_tiny_digits_model_fits_every_profile():
    """A ~15 KB int8 classifier with a few hundred KB of working memory fits everywhere."""
    model_bytes, working_bytes = 15 * 1024, 200 * 1024
    for name in EXPECTED:
        profile, _ = _load(name)
        assert model_bytes <= profile.budgets.gzip_bytes <= profile.budgets.size_bytes, name
        assert working_bytes + model_bytes <= profile.memory_budget_bytes, name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_allowed_ops_are_real_tflite_builtins(name):
    profile, _ = _load(name)
    if profile.ops.allow is None:
        return
    known = _builtin_op_names()
    allow = profile.ops.allow
    assert len(set(allow)) == len(allow), f"{name}: duplicate ops in allow-list"
    unknown = sorted(set(allow) - known)
    assert not unknown, f"{name}: not TFLite builtin op names: {unknown}"


def test_allow_lists_cover_a_small_convolutional_classifier():
    """Conv / depthwise / pooling / dense / softmax: what the digits student is made of."""
    needed = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MEAN", "RESHAPE", "SOFTMAX"}
    for name in EXPECTED:
        profile, _ = _load(name)
        if profile.ops.allow is not None:
            assert needed <= set(profile.ops.allow), (name, sorted(needed - set(profile.ops.allow)))
