"""Ladder recipes and tightened profiles, written into a test's folder."""

from __future__ import annotations

from pathlib import Path

import yaml

from edgebuild.config.profile import load_profile
from tiny_recipe import TINY_RECIPE

_TINY_STUDENT = """\
student:
  architecture: mobilenet_v1
  stem_channels: 8
  blocks: [{channels: 16, stride: 2}, {channels: 16, stride: 1}]
"""


def with_student(student_section: str, input_size: int = 8) -> str:
    """The tiny recipe with its `student:` section replaced."""
    assert _TINY_STUDENT in TINY_RECIPE
    text = TINY_RECIPE.replace(_TINY_STUDENT, student_section)
    text = text.replace("convert:\n", "convert:\n  precisions: [int8, float16]\n")  # float16 for the iphone profile
    return text.replace("input_size: [8, 8]", f"input_size: [{input_size}, {input_size}]")


def ladder_text(architecture: str = "mobilenet_v1", widths: tuple[float, ...] = (0.5, 1.0, 1.5),
                input_size: int = 8, choose: str = "auto") -> str:
    """The tiny recipe with a ladder of one candidate per width, named w0, w1, ... smallest first."""
    rungs = "".join(f"    - {{name: w{index}, width: {width}, stem_channels: 8,\n"
                    f"       blocks: [{{channels: 16, stride: 2}}, {{channels: 32, stride: 1}}]}}\n"
                    for index, width in enumerate(widths))
    ladder = f"student:\n  choose: {choose}\n  architecture: {architecture}\n  bn_momentum: 0.9\n  candidates:\n{rungs}"
    return with_student(ladder, input_size)


def write_ladder(folder: Path, **options) -> Path:
    path = folder / "ladder.yaml"
    path.write_text(ladder_text(**options))
    return path


def write_profile(folder: Path, bundled: str, file_name: str, **budgets: int) -> Path:
    """A copy of a bundled profile with some budgets replaced."""
    _, source = load_profile(bundled)
    document = yaml.safe_load(source.read_text())
    document["budgets"].update(budgets)
    path = folder / file_name
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path
