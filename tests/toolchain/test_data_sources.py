"""Bad image folders are bad input: exit 2 from the CLI, naming the file or folder, before training."""

from __future__ import annotations

from cli_runner import assert_one_line_error, run_edgebuild
from tiny_builds import write_recipe
from digit_images import write_digit_folder


def _build(tmp_path):
    write_recipe(tmp_path, data={"source": "images", "input_size": [8, 8]})
    return run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)


def test_corrupt_image_exits_2_naming_the_file(tmp_path):
    write_digit_folder(tmp_path / "images", per_class=3)
    (tmp_path / "images" / "7" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png")
    assert_one_line_error(_build(tmp_path), 2, "broken.png", "corrupt")
    assert not (tmp_path / "out").exists()


def test_empty_class_folder_exits_2_naming_the_folder(tmp_path):
    write_digit_folder(tmp_path / "images", per_class=3)
    (tmp_path / "images" / "empty_class").mkdir()
    assert_one_line_error(_build(tmp_path), 2, "empty_class", "empty class folder")
    assert not (tmp_path / "out").exists()
