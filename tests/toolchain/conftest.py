"""Tiny builds shared by the toolchain tests; one stage cache, so the teacher and student train once."""

from __future__ import annotations

import pytest

from tiny_builds import CLUSTER, TWO_BY_FOUR, train_tiny


@pytest.fixture(scope="session")
def toolchain_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("toolchain_cache")


@pytest.fixture(scope="session")
def cqat_build(tmp_path_factory, toolchain_cache):
    """distill → cluster → cluster-preserving QAT → int8."""
    return train_tiny(tmp_path_factory.mktemp("cqat"), toolchain_cache, prune=None, cluster=CLUSTER)


@pytest.fixture(scope="session")
def pcqat_build(tmp_path_factory, toolchain_cache):
    """distill → 2:4 pruning → cluster → cluster- and sparsity-preserving QAT → int8."""
    return train_tiny(tmp_path_factory.mktemp("pcqat"), toolchain_cache, prune=TWO_BY_FOUR, cluster=CLUSTER)
