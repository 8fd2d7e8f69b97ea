"""Models from elsewhere, used only to infer: a `.tflite` file (how a PyTorch or JAX model arrives,
through litert-torch or jax2tflite) and a Keras 3 `.keras` file (TF 2.21's default `import keras`,
which tf_keras cannot deserialize). Both answer `predict`, `input_shape` and `output_shape` like a
tf_keras model, so a teacher's soft targets and a model's accuracy are computed the same way.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from edgebuild.base.errors import BadInput
from edgebuild.on_device_bench.accuracy import predict_scores
from edgebuild.on_device_bench.runtime import load_runtime
from edgebuild.toolchain.datasets import pixel_divisor

TFLITE_SUFFIX = ".tflite"


class TfliteModel:
    """A .tflite classifier run in the interpreter, float in and dequantized scores out."""

    def __init__(self, path: Path):
        try:
            self._interpreter = load_runtime().interpreter_class(model_path=str(path), num_threads=2)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as error:
            raise BadInput(f"{path}: cannot load the .tflite model ({str(error).strip().splitlines()[0][:160]})") \
                from None
        inputs, outputs = self._interpreter.get_input_details(), self._interpreter.get_output_details()
        if len(inputs) != 1 or len(inputs[0]["shape"]) != 4:
            raise BadInput(f"{path}: expected one NHWC image input, got {[list(d['shape']) for d in inputs]}")
        self.name = path.stem
        self.input_shape = (None, *(int(n) for n in inputs[0]["shape"][1:]))
        self.output_shape = (None, int(np.prod(outputs[0]["shape"][1:])))

    def predict(self, x: np.ndarray, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        images = np.asarray(x)
        return predict_scores(self._interpreter, images, pixel_divisor(images))


def keras_version_of(path: Path) -> str | None:
    """The Keras version a .keras archive was saved with (its metadata.json), or None."""
    try:
        with zipfile.ZipFile(path) as archive:
            return str(json.loads(archive.read("metadata.json")).get("keras_version"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def is_keras3_file(path: Path) -> bool:
    version = keras_version_of(path) if path.suffix.lower() == ".keras" and path.is_file() else None
    return version is not None and version.startswith("3.")


def load_keras3(path: Path):
    """A Keras 3 model, in safe mode (a .keras archive's lambdas are refused, not run)."""
    import keras  # Keras 3 itself: TF_USE_LEGACY_KERAS only redirects tf.keras

    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for a damaged or unsafe archive
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else "no detail"
        raise BadInput(f"{path}: cannot load the Keras 3 model ({error.__class__.__name__}: {detail})") from None


def is_tf_keras_candidate(path: Path) -> bool:
    """Whether tf_keras may load it (neither .tflite nor a Keras 3 archive), read without loading it."""
    return path.suffix.lower() != TFLITE_SUFFIX and not is_keras3_file(path)
