"""A user's teacher: .keras loads with safe_mode; .h5 (can run code when loaded) only with the trust flag."""

from __future__ import annotations

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from tiny_builds import training_job, write_recipe

@pytest.fixture(scope="module")
def digits_8x8():
    from edgebuild.base import tfenv
    from edgebuild.toolchain.data import load_dataset

    tfenv.tensorflow(0)
    return load_dataset("sklearn:digits", (8, 8), validation_fraction=0.1, test_fraction=0.2, seed=0)


def _save_teacher(path, dataset):
    import tf_keras as keras

    inputs = keras.layers.Input(dataset.input_shape, name="input")
    flat = keras.layers.Flatten(name="flatten")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(dataset.num_classes, name="logits")(flat))
    model.save(str(path))
    return path


def _load_teacher(tmp_path, dataset, file_name: str, trust: bool):
    from edgebuild.toolchain.model_files import teacher_model_file

    _save_teacher(tmp_path / file_name, dataset)
    path = write_recipe(tmp_path, teacher={"path": file_name, "trust_unsafe_format": trust})
    job = training_job(path, dataset, with_student=False)
    return teacher_model_file(job.recipe, job.ctx.base_dir).load()


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_h5_teacher_is_refused_without_the_trust_flag(tmp_path, digits_8x8):
    _save_teacher(tmp_path / "teacher.h5", digits_8x8)
    write_recipe(tmp_path, teacher={"path": "teacher.h5"})
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert_one_line_error(result, 2, "teacher.h5", "can run code", "trust_unsafe_format")
    assert not (tmp_path / "out").exists()


@pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")
def test_h5_teacher_loads_with_the_trust_flag(tmp_path, digits_8x8):
    model = _load_teacher(tmp_path, digits_8x8, "teacher.h5", trust=True)
    assert model.output_shape == (None, digits_8x8.num_classes)


def test_keras_teacher_loads_without_the_trust_flag(tmp_path, digits_8x8):
    model = _load_teacher(tmp_path, digits_8x8, "teacher.keras", trust=False)
    assert model.output_shape == (None, digits_8x8.num_classes)
