"""Shared fixtures: a tiny real recipe and one real build of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import run_edgebuild

TINY_RECIPE = """\
name: tiny
seed: 3
min_stage_accuracy: 0.3
data:
  source: sklearn:digits
  input_size: [8, 8]
teacher:
  architecture: {filters: [16], dense_units: 32, dropout: 0.1}
  training: {epochs: 4, batch_size: 64, learning_rate: 0.005}
student:
  architecture: mobilenet_v1
  stem_channels: 8
  blocks: [{channels: 16, stride: 2}, {channels: 16, stride: 1}]
distill:
  temperature: 4.0
  alpha: 0.1
  training: {epochs: 8, batch_size: 64, learning_rate: 0.01}
  max_accuracy_drop: 0.5
prune:
  target_sparsity: 0.5
  training: {epochs: 3, batch_size: 64, learning_rate: 0.002}
  max_accuracy_drop: 0.2
qat:
  training: {epochs: 1, batch_size: 64, learning_rate: 0.001}
  max_accuracy_drop: 0.2
convert:
  representative_samples: 50
verify:
  min_accuracy: 0.5
  max_drop_from_float: 0.1
"""


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> Path:
    """One real end-to-end build of the tiny recipe, shared by the tests that read its outputs."""
    root = tmp_path_factory.mktemp("tiny_build")
    (root / "tiny.yaml").write_text(TINY_RECIPE)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    return root
