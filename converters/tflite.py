"""Keras → .tflite for each precision a device runs.

Full-integer int8 follows the converter's documented recipe (DEFAULT optimizations, a representative
dataset, TFLITE_BUILTINS_INT8 only, integer I/O). With TensorFlow 2.21 an op that has a float kernel
only (SIN, CUMSUM, FLOOR, ...) does not fail that conversion: it stays float between a DEQUANTIZE and
a QUANTIZE, and the release gate's `float_ops` check names it (checked). What does fail is an op with
no TFLite builtin at all (Erf, Atan, ...): the converter's structured errors name those ops.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgebuild.base.errors import GateFailed
from edgebuild.config.precisions import PRECISIONS
from edgebuild.converters import litert_quant
from edgebuild.converters.litert_quant import KeptFloat
from edgebuild.toolchain.datasets import model_input


def representative_images(x_train: np.ndarray, samples: int, seed: int) -> np.ndarray:
    """A deterministic draw from the training data, as model input: same seed, same calibration, same bytes."""
    order = np.random.default_rng(seed).permutation(len(x_train))
    return model_input(x_train[np.sort(order[: min(samples, len(x_train))])])


def convert(saved_model: Path, precision: str, io_dtype: str, calibration: np.ndarray | None,
            keep_float: Sequence[KeptFloat] = ()) -> bytes:
    """Convert an exported SavedModel as the precision's registry entry says; `io_dtype` applies to
    integer I/O only (a float32 I/O dtype keeps the converter's float inputs and outputs).
    `keep_float`: ops a litert-quantizer precision leaves float."""
    from edgebuild.base.tfenv import tensorflow

    spec = PRECISIONS.get(precision)
    if spec.quantizer_recipe is not None:
        return litert_quant.quantize(convert(saved_model, "float32", "float32", None), spec.quantizer_recipe,
                                     calibration, keep_float)
    tf = tensorflow()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    if spec.optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if spec.supported_types:
        converter.target_spec.supported_types = [tf.as_dtype(name) for name in spec.supported_types]
    if spec.supported_ops:
        converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, name) for name in spec.supported_ops]
    if spec.needs_calibration:
        converter.representative_dataset = _batches(calibration, precision)
    if io_dtype != "float32":
        converter.inference_input_type = converter.inference_output_type = tf.as_dtype(io_dtype)
    try:
        return converter.convert()
    except Exception as error:  # the converter raises ConverterError and friends; all mean "cannot convert"
        raise GateFailed(f"conversion to {precision} failed: {_failure_reason(error)}") from None


def convert_clipped_int8(saved_model: Path, io_dtype: str, calibration: np.ndarray | None) -> bytes:
    """Full-integer int8 by litert-quantizer from the float32 file, each channel's weight range clipped
    by OCTAV instead of spanning its min to max (the precision ladder's better-calibrated int8)."""
    return litert_quant.quantize(convert(saved_model, "float32", "float32", None), litert_quant.INT8_RECIPE,
                                 calibration, weight_algorithm=litert_quant.CLIPPED_WEIGHTS, io_dtype=io_dtype)


def _failure_reason(error: Exception) -> str:
    """One line naming the ops the converter has no kernel for, else the converter's own reason."""
    # ConverterError.errors: one ConverterErrorData record per failing op instance, root cause last.
    records = list(getattr(error, "errors", ()))
    no_kernel = Counter(record.operator.name.removeprefix("tf.") for record in records
                        if record.error_code == type(record).ERROR_NEEDS_FLEX_OPS and record.operator.name)
    if no_kernel:
        listed = ", ".join(f"{name}×{count}" for name, count in sorted(no_kernel.items()))
        return (f"TensorFlow ops with no TFLite builtin kernel: {listed} (replace them with ops TFLite runs; "
                "edgebuild does not ship Select TF ops)")
    messages = [record.error_message for record in records if record.error_message]
    # Without records the text starts with MLIR source locations (file paths); the reason follows "error: ".
    text = messages[-1] if messages else str(error).split("error: ", 1)[-1]
    return (text.strip().splitlines() or [error.__class__.__name__])[0][:300]


def _batches(calibration: np.ndarray | None, precision: str):
    if calibration is None or len(calibration) == 0:
        raise GateFailed(f"conversion to {precision} needs a representative dataset "
                         "(convert.representative_samples > 0)")

    def generate():
        for image in calibration:
            yield [image[None, ...].astype(np.float32)]

    return generate
