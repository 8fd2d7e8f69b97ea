"""Data that cannot train a classifier is refused by `edgebuild build` in one line naming the folder,
file or array at fault — before TensorFlow is imported and before anything is trained."""

from __future__ import annotations

import io
import struct
import zlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_edgebuild
from digit_images import write_digit_folder
from reliability_checks import assert_refused
from tiny_builds import write_recipe


def _build(root: Path, source: str, input_size=(8, 8)):
    write_recipe(root, data={"source": source, "input_size": list(input_size)})
    return run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=root)


def _build_digits(root: Path, source: str):
    """The bundled digits recipe (16x16 input), pointed at `source`."""
    digits = (resources.files("edgebuild.recipes") / "digits.yaml").read_text()
    assert digits.count("source: sklearn:digits") == 1
    (root / "digits.yaml").write_text(digits.replace("source: sklearn:digits", f"source: {source}"))
    return run_edgebuild("build", "digits.yaml", "--profile", "android-flagship", "--out", "out", cwd=root)


def _digits(root: Path, per_class: int = 2, size: int = 8) -> Path:
    return write_digit_folder(root / "images", per_class=per_class, size=size)


def _png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height 8-bit gray pixels, with one empty data chunk."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_missing_source_is_named(tmp_path):
    assert_refused(_build(tmp_path, "no_such_folder"), 2, "no_such_folder", "data source not found", root=tmp_path)


def test_folder_without_class_folders_is_refused(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    assert_refused(_build(tmp_path, "images"), 2, "images", "no class folders", root=tmp_path)


def test_digits_with_a_class_folder_of_only_hidden_files_names_the_folder(tmp_path):
    _digits(tmp_path)
    (tmp_path / "images" / "unlabelled").mkdir()
    (tmp_path / "images" / "unlabelled" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    assert_refused(_build_digits(tmp_path, "images"), 2, "unlabelled", "empty class folder", root=tmp_path)


def test_digits_with_a_truncated_image_names_the_image(tmp_path):
    images = _digits(tmp_path)
    whole = next((images / "4").glob("*.png")).read_bytes()
    (images / "4" / "cut.png").write_bytes(whole[: len(whole) // 2])
    assert_refused(_build_digits(tmp_path, "images"), 2, "cut.png", "corrupt", root=tmp_path)


def test_image_that_claims_a_huge_size_is_named_not_decoded(tmp_path):
    images = _digits(tmp_path)
    (images / "2" / "bomb.png").write_bytes(_png_header_claiming(60000, 60000))
    assert_refused(_build(tmp_path, "images"), 2, "bomb.png", root=tmp_path)


def test_non_image_file_is_named_and_hidden_files_are_ignored(tmp_path):
    images = _digits(tmp_path)
    for class_dir in images.iterdir():
        (class_dir / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (images / "3" / "notes.txt").write_text("scanned on Tuesday")
    result = _build(tmp_path, "images")
    assert_refused(result, 2, "notes.txt", "not an image", root=tmp_path)
    assert ".DS_Store" not in result.stderr


def test_one_class_only_is_refused(tmp_path):
    images = _digits(tmp_path)
    for class_dir in images.iterdir():
        if class_dir.name != "0":
            for file in class_dir.iterdir():
                file.unlink()
            class_dir.rmdir()
    assert_refused(_build(tmp_path, "images"), 2, "images", "only 1 class", root=tmp_path)


def test_too_few_images_per_class_to_split_are_refused(tmp_path):
    _digits(tmp_path, per_class=1)
    assert_refused(_build(tmp_path, "images"), 2, "images", "too few samples", root=tmp_path)


def test_images_too_small_for_the_input_size_are_refused(tmp_path):
    _digits(tmp_path, size=2)
    assert_refused(_build(tmp_path, "images", input_size=(16, 16)), 2, "images", "2x2", "16x16",
                   "data.input_size", root=tmp_path)


def _npz(root: Path, **arrays) -> str:
    np.savez(root / "data.npz", **arrays)
    return "data.npz"


GOOD_X = np.random.default_rng(0).uniform(0, 1, (40, 8, 8)).astype(np.float32)
GOOD_Y = np.arange(40) % 4

NPZ_CASES = {
    "without_y": ({"x": GOOD_X}, ("data.npz", "'y'")),
    "without_x": ({"images": GOOD_X, "y": GOOD_Y}, ("data.npz", "'x'")),
    "length_mismatch": ({"x": GOOD_X, "y": GOOD_Y[:30]}, ("data.npz", "(40, 8, 8)", "(30,)")),
    "nan": ({"x": np.where(GOOD_X > 0.99, np.nan, GOOD_X), "y": GOOD_Y}, ("data.npz", "x", "NaN")),
    "inf": ({"x": np.where(GOOD_X > 0.99, np.inf, GOOD_X), "y": GOOD_Y}, ("data.npz", "x", "inf")),
    "negative_label": ({"x": GOOD_X, "y": GOOD_Y - 1}, ("data.npz", "y", "non-negative")),
    "label_skips_a_class": ({"x": GOOD_X, "y": np.where(GOOD_Y == 2, 3, GOOD_Y)}, ("data.npz", "y", "[2]")),
    "float_labels": ({"x": GOOD_X, "y": GOOD_Y.astype(np.float32)}, ("data.npz", "y", "float32")),
    "no_samples": ({"x": GOOD_X[:0], "y": GOOD_Y[:0]}, ("data.npz", "no samples")),
    "text_pixels": ({"x": np.full((40, 8, 8), "a"), "y": GOOD_Y}, ("data.npz", "x", "<U1")),
    "object_arrays": ({"x": np.array([object()] * 40, dtype=object), "y": GOOD_Y}, ("data.npz", "unreadable")),
}


@pytest.mark.parametrize("case", sorted(NPZ_CASES))
def test_unusable_npz_is_named(tmp_path, case):
    arrays, fragments = NPZ_CASES[case]
    assert_refused(_build(tmp_path, _npz(tmp_path, **arrays)), 2, *fragments, root=tmp_path)


@pytest.mark.parametrize("content", [
    b"PK\x03\x04" + bytes(60),
    b"just text, renamed to .npz\n",
], ids=["damaged_zip", "not_a_zip"])
def test_damaged_npz_file_is_named(tmp_path, content):
    (tmp_path / "data.npz").write_bytes(content)
    assert_refused(_build(tmp_path, "data.npz"), 2, "data.npz", "unreadable .npz", root=tmp_path)


def test_single_array_file_named_npz_is_refused(tmp_path):
    buffer = io.BytesIO()
    np.save(buffer, GOOD_X)
    (tmp_path / "data.npz").write_bytes(buffer.getvalue())
    assert_refused(_build(tmp_path, "data.npz"), 2, "data.npz", "'x'", "'y'", root=tmp_path)
