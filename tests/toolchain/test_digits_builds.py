"""The bundled digits recipe, built end to end through the CLI (slow: a minute or two each)."""

from __future__ import annotations

import json

import pytest

from cli_runner import run_edgebuild
from digit_images import write_digit_folder
from edgebuild.converters.metadata import read_json_metadata


def _build(cwd, recipe: str) -> dict:
    result = run_edgebuild("build", recipe, "--profile", "android-flagship", "--out", "out", cwd=cwd)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads((cwd / "out" / "digits" / "android-flagship" / "report.json").read_text())


@pytest.mark.slow
def test_default_digits_build_is_accurate_on_all_digits_and_close_to_float(tmp_path):
    report = _build(tmp_path, "digits")
    accuracy = report["accuracy"]
    assert report["precision"] == "int8"
    assert accuracy["artifact_all_data"] >= 0.965
    assert abs(accuracy["float_student"] - accuracy["artifact"]) <= 0.015


@pytest.mark.slow
def test_digits_recipe_builds_from_a_folder_of_28x28_pngs_with_no_other_edit(tmp_path):
    from edgebuild.config.recipe import load_recipe

    write_digit_folder(tmp_path / "pngs", size=28, shifts=(0, 1))  # 3,594 grayscale PNGs
    bundled = load_recipe("digits")[1].read_text()
    assert bundled.count("source: sklearn:digits") == 1
    (tmp_path / "digits.yaml").write_text(bundled.replace("source: sklearn:digits", "source: pngs"))
    report = _build(tmp_path, "digits.yaml")
    assert report["precision"] == "int8"
    assert report["accuracy"]["artifact"] >= 0.95
    assert abs(report["accuracy"]["float_student"] - report["accuracy"]["artifact"]) <= 0.015
    metadata = read_json_metadata((tmp_path / "out" / "digits" / "android-flagship" / "model.tflite").read_bytes())
    assert metadata["input"]["normalization"]["scale"] == pytest.approx(1 / 255)
