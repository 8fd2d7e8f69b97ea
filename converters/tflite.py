"""Keras → .tflite for each precision a device runs.

Full-integer int8 follows the converter's documented recipe (DEFAULT optimizations, a representative
dataset, TFLITE_BUILTINS_INT8 only, integer I/O), so any op that cannot be quantized fails the
conversion instead of silently staying float.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebuild.errors import GateFailed


def representative_images(x_train: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """A deterministic draw from the training data: same seed, same calibration, same bytes."""
    order = np.random.default_rng(seed).permutation(len(x_train))
    return x_train[np.sort(order[: min(samples, len(x_train))])]


def convert(saved_model: Path, precision: str, io_dtype: str, calibration: np.ndarray | None) -> bytes:
    """Convert an exported SavedModel; `io_dtype` applies to integer precisions only."""
    from edgebuild.tfenv import tensorflow

    tf = tensorflow()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if precision != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if precision == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if precision == "int8":
        converter.representative_dataset = _batches(calibration)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if io_dtype != "float32":
            converter.inference_input_type = converter.inference_output_type = tf.as_dtype(io_dtype)
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and friends; all mean "cannot convert"
        first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else error.__class__.__name__
        raise GateFailed(f"conversion to {precision} failed: {first_line}") from None


def _batches(calibration: np.ndarray | None):
    if calibration is None or len(calibration) == 0:
        raise GateFailed("conversion to int8 needs a representative dataset (convert.representative_samples > 0)")

    def generate():
        for image in calibration:
            yield [image[None, ...].astype(np.float32)]

    return generate
