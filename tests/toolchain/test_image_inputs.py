"""Real photo folders: mixed sizes, RGB, JPEG and PNG, brought to the model's input under the
declared resize policy and channel count; Debian's Fashion-MNIST with its own test split."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_runner import run_edgebuild
from digit_images import MIXED_SIZES, write_mixed_folder
from tiny_builds import write_recipe


def _fit(image: np.ndarray, size, resize: str, channels=None) -> np.ndarray:
    from edgebuild.toolchain.images import InputShape, fit_images

    return fit_images(image[None], InputShape(size, resize, channels), "test image")[0]


@pytest.mark.slow
def test_a_folder_of_mixed_size_rgb_jpeg_and_png_images_builds(tmp_path):
    folder = write_mixed_folder(tmp_path / "photos")
    suffixes = {file.suffix for file in folder.rglob("*.*")}
    assert suffixes == {".jpg", ".png"}
    write_recipe(tmp_path, data={"source": "photos", "input_size": [8, 8], "resize": "pad"})
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(next((tmp_path / "out").rglob("report.json")).read_text())
    assert report["passed"] is True
    assert report["artifact"]["inputs"][0]["shape"] == [1, 8, 8, 3]


@pytest.mark.parametrize("resize", ["stretch", "crop", "pad"])
def test_every_size_reaches_the_input_size(tmp_path, resize):
    from edgebuild.toolchain.data import load_dataset

    write_mixed_folder(tmp_path / "photos", per_class=2 * len(MIXED_SIZES))
    data = load_dataset(str(tmp_path / "photos"), (12, 12), resize=resize, channels=1)
    assert data.x_all.shape == (20 * len(MIXED_SIZES), 12, 12, 1)
    assert data.x_all.dtype == np.uint8  # resized and gray-converted, still whole 8-bit pixels


def test_pad_keeps_the_aspect_and_fills_with_black():
    wide = np.ones((4, 8, 1), np.float32)
    padded = _fit(wide, (8, 8), "pad")
    assert padded.shape == (8, 8, 1)
    assert np.all(padded[:2] == 0) and np.all(padded[-2:] == 0)
    assert np.allclose(padded[2:6], 1.0)


def test_crop_keeps_the_centre():
    wide = np.zeros((4, 8, 1), np.float32)
    wide[:, 2:6] = 1.0  # the centre square is white, both sides black
    cropped = _fit(wide, (4, 4), "crop")
    assert np.allclose(cropped, 1.0)
    stretched = _fit(wide, (4, 4), "stretch")
    assert stretched.min() < 0.5  # stretching keeps the black sides, squeezed


def test_channels_convert_both_ways():
    gray = np.full((4, 4, 1), 0.5, np.float32)
    assert np.allclose(_fit(gray, (4, 4), "stretch", 3), 0.5)
    red = np.zeros((4, 4, 3), np.float32)
    red[..., 0] = 1.0
    assert np.allclose(_fit(red, (4, 4), "stretch", 1), 0.299)  # BT.601 luma, as PIL's convert("L")


def test_upscaling_past_four_times_names_the_file_and_the_sizes():
    from edgebuild.base.errors import BadInput

    with pytest.raises(BadInput, match=r"test image: images are 2x2, scaled to 16x16 for data.input_size"):
        _fit(np.zeros((2, 2, 1), np.float32), (16, 16), "stretch")


needs_fashion = pytest.mark.skipif(
    not __import__("pathlib").Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")


@needs_fashion
def test_fashion_mnist_keeps_its_own_ten_thousand_test_images():
    from edgebuild.toolchain.data import load_dataset

    data = load_dataset("fashion_mnist", (28, 28), validation_fraction=0.1)
    assert data.x_test.shape == (10_000, 28, 28, 1)
    assert np.array_equal(data.split[2], np.arange(60_000, 70_000))
    assert len(data.x_train) + len(data.x_val) == 60_000
    assert np.bincount(data.y_test).tolist() == [1000] * 10
    assert data.x_all.dtype == np.uint8 and data.x_all.nbytes == 70_000 * 28 * 28  # float32 would be 4x
    assert data.class_names[0] == "t-shirt/top" and data.class_names[9] == "ankle boot"


@needs_fashion
def test_fashion_mnist_refuses_a_test_fraction_of_its_own(tmp_path):
    write_recipe(tmp_path, data={"source": "fashion_mnist", "input_size": [28, 28], "test_fraction": 0.2})
    result = run_edgebuild("plan", "recipe.yaml", "--profile", "android-flagship", cwd=tmp_path)
    assert result.returncode == 2
    assert "data.test_fraction: fashion_mnist keeps its own test split" in result.stderr
    assert "Traceback" not in result.stderr


def test_fashion_mnist_without_the_package_names_what_to_install(tmp_path, monkeypatch):
    from edgebuild.base.errors import BadInput
    from edgebuild.toolchain import sources

    monkeypatch.setattr(sources, "FASHION_MNIST_DIR", tmp_path / "not-installed")
    with pytest.raises(BadInput, match="data.source: fashion_mnist needs Debian's dataset-fashion-mnist package .*"
                                       "apt-get install dataset-fashion-mnist"):
        sources.open_source("fashion_mnist")


@needs_fashion
@pytest.mark.parametrize("profile", ["android-flagship", "alif-ensemble-e7", "cortex-m7"])
def test_the_bundled_fashion_recipe_fits_a_phone_an_npu_and_a_microcontroller(tmp_path, profile):
    """`fit` compiles the untrained student for the profile (Vela on the NPU, TFLite Micro on the
    microcontroller): the recipe's one student must fit all three before anyone trains it for 25 minutes."""
    result = run_edgebuild("fit", "fashion", "--profile", profile, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    fitted = json.loads(result.stdout)
    (candidate,) = fitted["candidates"]
    assert fitted["fits"] and fitted["precision"] == "int8" and fitted["io_dtype"] == "int8"
    assert candidate["config"]["architecture"] == "efficientnet_lite"
    assert candidate["predicted"]["size_bytes"] <= 256 * 1024
