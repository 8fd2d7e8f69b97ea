"""`edgebuild sensitivity` as an API: which ops of a model lose accuracy at int8, and what keeping each float recovers.

The float original is the reference: a .keras file (converted to a float .tflite here) or a float
.tflite. The int8 file is litert-quantizer's static int8 of that float file, calibrated on the
training split; errors are compared on the same calibration images, top-1 on the test split.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgebuild.base.errors import BadInput
from edgebuild.converters import sensitivity, tflite
from edgebuild.converters.artifact import read_artifact
from edgebuild.converters.litert_quant import INT8_RECIPE, quantize
from edgebuild.converters.sensitivity import OpError
from edgebuild.toolchain.data import load_dataset
from edgebuild.toolchain.model_files import image_classifier_shape, load_keras_file


@dataclass(frozen=True)
class Sensitivity:
    float_top1: float
    int8_top1: float
    samples: int
    ops: list[OpError]  # worst first; the first `top` carry recovered_accuracy


def model_sensitivity(model: Path, data_source: str, *, top: int = 3, representative_samples: int = 200,
                      seed: int = 0) -> Sensitivity:
    float_bytes, input_size = _float_file(model)
    dataset = load_dataset(data_source, input_size, test_fraction=0.2, seed=seed, flag="--data")
    calibration = tflite.representative_images(dataset.x_train, representative_samples, seed)
    ranked = sensitivity.rank_ops(float_bytes, calibration, calibration)
    recovered = sensitivity.with_recovery(float_bytes, ranked[:top], calibration, dataset.x_test, dataset.y_test)
    int8_bytes = quantize(float_bytes, INT8_RECIPE, calibration)
    return Sensitivity(sensitivity.top1(float_bytes, dataset.x_test, dataset.y_test),
                       sensitivity.top1(int8_bytes, dataset.x_test, dataset.y_test), len(dataset.y_test),
                       [*recovered, *ranked[top:]])


def _float_file(model: Path) -> tuple[bytes, tuple[int, int]]:
    """The float .tflite the int8 one is compared against, and the model's input height and width."""
    if model.suffix == ".tflite":
        artifact = read_artifact(model)
        if artifact.precision != "float32":
            raise BadInput(f"{model}: expected a float32 .tflite (the float original), got {artifact.precision}")
        inputs = artifact.info.inputs
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise BadInput(f"{model}: expected a single-input image classifier (NHWC), got inputs "
                           f"{[list(t.shape) for t in inputs]}")
        return model.read_bytes(), tuple(inputs[0].shape[1:3])
    keras_model = load_keras_file(model, trust_unsafe_format=False, trust_hint="save it as .keras")
    (height, width, _), _ = image_classifier_shape(model, keras_model)
    from edgebuild.base.tfenv import tensorflow

    return tensorflow().lite.TFLiteConverter.from_keras_model(keras_model).convert(), (height, width)
