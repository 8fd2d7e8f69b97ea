"""A model the user trained, loaded without running code it carries, as a cached conversion source.

`edgebuild convert MODEL` and a recipe's `teacher.path` read models through `load_keras_file`.
`ModelFileStage` measures the model on the data (the float reference the artifact is gated
against) and hands it on like a training stage's model.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.cache import cache_key, file_sha256
from edgebuild.base.errors import BadInput
from edgebuild.base.stage import Stage, Upstream
from edgebuild.toolchain.context import ModelFile, training_versions
from edgebuild.toolchain.training_stage import METRICS_FILE, TrainedModel

# tf_keras' safe_mode protects only the .keras format; .h5 and SavedModel loading can run code
# (Lambda layers and SavedModel functions are deserialized as code; checked).
_UNSAFE_SUFFIXES = (".h5", ".hdf5", ".pb", "")
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # a model's stem names its output folder


@dataclass(frozen=True)
class ModelFileStage(Stage[TrainedModel]):
    """The user's model as the conversion source; its metrics are its own top-1 on the data's splits."""

    model_file: ModelFile
    versions: dict[str, str]
    name = "model"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        return {"model_sha256": model_sha256(self.model_file.path), "upstream": {"data": upstream.key("data")},
                "versions": training_versions(self.versions)}

    def run(self, upstream: Upstream, scratch: Path) -> TrainedModel:
        from edgebuild.toolchain.training import accuracy

        model = self.model_file.load()
        dataset = upstream.output("data")
        _check_matches(self.model_file.path, model, dataset)
        metrics = {"accuracy": accuracy(model, dataset.x_test, dataset.y_test),
                   "accuracy_all_data": accuracy(model, dataset.x_all, dataset.y_all)}
        (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True))
        return TrainedModel(metrics, lambda: model)

    def load(self, upstream: Upstream, entry: Path) -> TrainedModel:
        return TrainedModel(json.loads((entry / METRICS_FILE).read_text()), self.model_file.load)


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
    _refuse_keras_3(path)
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    try:
        return keras.models.load_model(str(path), compile=False, **({} if unsafe else {"safe_mode": True}))
    except Exception as error:  # Keras raises many types for a damaged archive; all mean "unusable file".
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else "no detail"
        raise BadInput(f"{path}: cannot load model ({error.__class__.__name__}: {detail})") from None


def _refuse_keras_3(path: Path) -> None:
    """A Keras 3 archive fails deep inside tf_keras' deserializer with a message about InputLayer; say what it is."""
    try:
        with zipfile.ZipFile(path) as archive:
            saved_by = str(json.loads(archive.read("metadata.json")).get("keras_version", ""))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return  # not a readable .keras archive: tf_keras' own refusal names what is wrong
    if saved_by.startswith("3"):
        raise BadInput(f"{path}: saved by Keras {saved_by}; edgebuild loads Keras 2 (tf_keras) models: build and "
                       "train it with `import tf_keras as keras` (or TF_USE_LEGACY_KERAS=1 and tf.keras), then save "
                       "it as .keras again")


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


def _check_matches(path: Path, model, dataset) -> None:
    (_, _, channels), classes = image_classifier_shape(path, model)
    if dataset.input_shape[-1] != channels or dataset.num_classes != classes:
        raise BadInput(f"{path}: the model takes {channels} channel(s) and scores {classes} classes; "
                       f"--data has {dataset.input_shape[-1]} channel(s) and {dataset.num_classes} classes")
