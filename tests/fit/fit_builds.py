"""A candidate built for real, quickly: a few training steps, the build's export, converter and metadata."""

from __future__ import annotations

import tempfile
from pathlib import Path

from edgebuild.base.cache import file_sha256

TRAINING_SAMPLES, BATCH = 256, 64  # 4 steps: enough to move BatchNorm statistics and biases off their initial values


def built_artifact(recipe, recipe_path: Path, target, candidate: str, dataset) -> bytes:
    """The .tflite a build of `candidate` publishes, up to training length and pruning: int8 from
    the QAT model when the recipe has QAT, as the build converts it."""

    from edgebuild.base.tfenv import tool_versions
    from edgebuild.config.precisions import PRECISIONS
    from edgebuild.converters.export import export_saved_model
    from edgebuild.converters.metadata import provenance, with_metadata
    from edgebuild.converters.tflite import convert, representative_images
    from edgebuild.toolchain.qat import quantization_aware
    from edgebuild.toolchain.students import build_student

    student = dict(zip(recipe.student.names(), recipe.student.students()))[candidate]
    model = _trained(build_student(student, dataset.input_shape, dataset.num_classes), dataset)
    if recipe.qat is not None and PRECISIONS.get(target.precision).converts_qat_model:
        model = quantization_aware(model)  # fine-tuning would move ranges, not bytes
    calibration = representative_images(dataset.x_train, recipe.convert.representative_samples, recipe.seed)
    with tempfile.TemporaryDirectory() as scratch:
        export_saved_model(model, Path(scratch) / "saved_model")
        model_bytes = convert(Path(scratch) / "saved_model", target.precision, target.io_dtype, calibration)
    inputs = {"recipe_sha256": file_sha256(recipe_path), "data_sha256": dataset.sha256, "seed": recipe.seed,
              "profile_sha256": file_sha256(target.profile_path)}
    made_by = provenance("recipe", recipe.name, target, recipe.seed, inputs, tool_versions())
    return with_metadata(model_bytes, dataset.class_names, dataset.input_shape, dataset.normalization.as_dict(),
                         made_by)


def _trained(model, dataset):
    import tf_keras as keras

    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(dataset.x_train[:TRAINING_SAMPLES], dataset.y_train[:TRAINING_SAMPLES], batch_size=BATCH, verbose=0)
    return model


def digits(recipe, recipe_path: Path):
    from edgebuild.toolchain.data import load_dataset

    data = recipe.data
    return load_dataset(data.source, data.input_size, validation_fraction=data.validation_fraction,
                        test_fraction=data.test_fraction, seed=recipe.seed, base_dir=recipe_path.parent)

