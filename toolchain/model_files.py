"""A model the user trained, loaded without running code it carries, as a cached stage.

`edgebuild convert MODEL` reads a tf_keras model through `load_keras_file`; a recipe's
`teacher.path` may also be a Keras 3 `.keras` or a `.tflite` file (toolchain/foreign_models.py).
`ModelFileStage` measures the model on the data (the float reference an artifact is gated against,
or the teacher's own accuracy) and hands it on like a training stage's model: as the conversion
source (`model`), or as the teacher whose soft targets are computed once (`teacher`).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.cache import cache_key, file_sha256
from edgebuild.base.errors import BadInput, GateFailed
from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.recipe import Recipe
from edgebuild.toolchain.context import ModelFile, teacher_file, training_versions
from edgebuild.toolchain.training_stage import METRICS_FILE, TrainedModel

# tf_keras' safe_mode protects only the .keras format; .h5 and SavedModel loading can run code
# (Lambda layers and SavedModel functions are deserialized as code; checked).
_UNSAFE_SUFFIXES = (".h5", ".hdf5", ".pb", "")
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a model's stem names its output folder


@dataclass(frozen=True)
class ModelFileStage(Stage[TrainedModel]):
    """The user's model as a stage's result; its metrics are its own top-1 on the data's splits."""

    model_file: ModelFile
    versions: dict[str, str]
    name: str = "model"  # or "teacher"
    min_accuracy: float | None = None  # below it the model does not fit the data (a teacher's floor)

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        return {"model_sha256": model_sha256(self.model_file.path), "upstream": {"data": upstream.key("data")},
                "versions": training_versions(self.versions)}

    def run(self, upstream: Upstream, scratch: Path) -> TrainedModel:
        from edgebuild.toolchain.training import accuracy

        model = self.model_file.load()
        dataset = upstream.output("data")
        _check_matches(self.model_file, model, dataset)
        metrics = {"accuracy": accuracy(model, dataset.x_test, dataset.y_test),
                   "accuracy_all_data": accuracy(model, dataset.x_all, dataset.y_all)}
        (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True))
        return TrainedModel(metrics, lambda: model)

    def load(self, upstream: Upstream, entry: Path) -> TrainedModel:
        return TrainedModel(json.loads((entry / METRICS_FILE).read_text()), self.model_file.load)

    def check(self, output: TrainedModel, upstream: Upstream) -> None:
        accuracy = output.metrics["accuracy"]
        if self.min_accuracy is not None and accuracy < self.min_accuracy:
            raise GateFailed(f"{self.model_file.field}: {self.model_file.path.name} scores {accuracy:.1%} on the test "
                             f"split, below min_stage_accuracy={self.min_accuracy:.0%}: check that its classes are in "
                             "the data's order (sorted class folder names)")

    def summary(self, output: TrainedModel) -> dict[str, Any]:
        return {"accuracy": output.metrics["accuracy"]}


def teacher_model_file(recipe: Recipe, base_dir: Path) -> ModelFile:
    """The recipe's `teacher.path` as a model file: tf_keras, Keras 3 or .tflite, loaded at most once."""
    path = teacher_file(recipe, base_dir)
    trust = recipe.teacher.trust_unsafe_format
    load = functools.cache(lambda: load_inference_model(path, trust_unsafe_format=trust,
                                                        trust_hint="set teacher.trust_unsafe_format: true"))
    return ModelFile(path, load, field="teacher.path", data_label="the recipe's data")


def load_keras_file(path: Path, *, trust_unsafe_format: bool, trust_hint: str):
    """The model in `path`; `trust_hint` says how the user vouches for a format that can run code.

    Refusals come before TensorFlow is imported, so they cost no start-up time.
    """
    if not path.exists():
        raise BadInput(f"{path}: model file not found (expected a .keras file)")
    unsafe = path.is_dir() or path.suffix.lower() in _UNSAFE_SUFFIXES
    if unsafe and not trust_unsafe_format:
        raise BadInput(f"{path}: .h5 and SavedModel files can run code when loaded; save the model as .keras, "
                       f"or {trust_hint} if you trust its author")
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    try:
        return keras.models.load_model(str(path), compile=False, **({} if unsafe else {"safe_mode": True}))
    except Exception as error:  # Keras raises many types for a damaged archive; all mean "unusable file".
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else "no detail"
        raise BadInput(f"{path}: cannot load model ({error.__class__.__name__}: {detail})") from None


def load_inference_model(path: Path, *, trust_unsafe_format: bool, trust_hint: str):
    """Any model edgebuild can run for its predictions: tf_keras, Keras 3 or .tflite."""
    from edgebuild.toolchain.foreign_models import TFLITE_SUFFIX, TfliteModel, is_keras3_file, load_keras3

    if path.suffix.lower() == TFLITE_SUFFIX and path.is_file():
        return TfliteModel(path)
    if is_keras3_file(path):
        return load_keras3(path)
    return load_keras_file(path, trust_unsafe_format=trust_unsafe_format, trust_hint=trust_hint)


def model_sha256(path: Path) -> str:
    """A .keras or .h5 file's sha256; for a SavedModel folder, over its files' names and hashes."""
    if path.is_file():
        return file_sha256(path)
    return cache_key({file.relative_to(path).as_posix(): file_sha256(file)
                      for file in sorted(path.rglob("*")) if file.is_file()})


def image_classifier_shape(path: Path, model) -> tuple[tuple[int, int, int], int]:
    """(height, width, channels) and the class count of a one-input NHWC classifier with fixed sizes."""
    input_shape, output_shape = model.input_shape, model.output_shape
    fixed_input = isinstance(input_shape, tuple) and len(input_shape) == 4 and None not in input_shape[1:]
    fixed_output = isinstance(output_shape, tuple) and len(output_shape) == 2 and output_shape[1] is not None
    if not (fixed_input and fixed_output):
        raise BadInput(f"{path}: model maps {input_shape} → {output_shape}: expected one image input "
                       "(None, height, width, channels) and one output (None, classes), all sizes fixed")
    return tuple(input_shape[1:]), output_shape[1]


def _check_matches(model_file: ModelFile, model, dataset) -> None:
    shape, classes = image_classifier_shape(model_file.path, model)
    if tuple(dataset.input_shape) != tuple(shape) or dataset.num_classes != classes:
        raise BadInput(f"{model_file.field}: {model_file.path}: the model takes {'x'.join(map(str, shape))} images "
                       f"and scores {classes} classes; {model_file.data_label} has "
                       f"{'x'.join(map(str, dataset.input_shape))} images and {dataset.num_classes} classes")
