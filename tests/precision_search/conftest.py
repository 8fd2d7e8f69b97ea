"""A model that loses its accuracy at int8, saved once per session."""

from __future__ import annotations

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pathlib import Path

import pytest

from tests.precision_search.sensitive_model import save_sensitive_model


@pytest.fixture(scope="session")
def digits():
    from edgebuild.toolchain.data import load_dataset

    return load_dataset("sklearn:digits", (8, 8), test_fraction=0.2, seed=0)


@pytest.fixture(scope="session")
def sensitive_keras(digits, tmp_path_factory) -> Path:
    return save_sensitive_model(digits, tmp_path_factory.mktemp("sensitive"))
