"""`verify --data` that the model cannot take is the user's mistake: exit 2, naming the flag, before TensorFlow."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from cli_runner import assert_one_line_error
from verify_cli import verify


def _npz(folder, name: str, channels: int, classes: int):
    path = folder / f"{name}.npz"
    labels = np.arange(2 * classes) % classes
    np.savez(path, x=np.random.default_rng(0).uniform(0, 1, (len(labels), 8, 8, channels)).astype(np.float32),
             y=labels)
    return path


@pytest.mark.parametrize("channels, classes", [(3, 10), (1, 20)], ids=["rgb_for_grey", "more_classes"])
def test_data_that_does_not_fit_the_model_is_exit_2_naming_the_flag(model_file, tmp_path, channels, classes):
    data = _npz(tmp_path, "mismatch", channels, classes)
    result = verify(model_file("float32"), "iphone", "--data", str(data), cwd=tmp_path)
    assert_one_line_error(result, 2, "--data:", f"{channels} channel(s) and {classes} classes")


def test_an_unreadable_data_folder_names_the_flag_not_the_recipe_field(model_file, tmp_path):
    (tmp_path / "images" / "zero").mkdir(parents=True)
    result = verify(model_file("float32"), "iphone", "--data", "images", cwd=tmp_path)
    assert_one_line_error(result, 2, "--data:", "empty class folder")
    assert "data.source" not in result.stderr


def test_bad_data_is_refused_before_tensorflow_is_imported(model_file, tmp_path):
    """The CLI imports TensorFlow only when something needs it: a refusal of --data should cost no 5 s import."""
    probe = ("import sys\nfrom edgebuild.app.verify import verify_file\nfrom edgebuild.base.errors import BadInput\n"
             f"try:\n    verify_file(__import__('pathlib').Path({str(model_file('float32'))!r}), 'iphone', "
             "data_source='no_such.npz')\nexcept BadInput as error:\n    print(error)\n"
             "print('tensorflow' in sys.modules)\n")
    finished = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    message, tensorflow_loaded = finished.stdout.splitlines()
    assert "--data" in message
    assert tensorflow_loaded == "False"
