"""litert-quantizer on a float32 .tflite: per-op recipes the TFLite converter does not offer.

It quantizes a float file with a named recipe (int4 weights, int8 with chosen ops kept float, int8
with OCTAV-clipped weights) and compares a quantized file's tensors with the float one's. Runs take
0.01–0.07 s on a small CNN (checked); every output ran in LiteRT.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgebuild.base.errors import GateFailed

INT8_RECIPE = "static_wi8_ai8"
# litert-quantizer 0.11's channel-wise int8 weight ranges besides min/max (its default): OCTAV (the
# clipping that minimises the quantization MSE, Sakr et al. 2022, arXiv:2206.06501) covers every op
# min/max does, so its file stays full-integer; MSE covers only the weighted ops (its file keeps
# float QUANTIZE/DEQUANTIZE/RESHAPE ops, checked), GPTQ and OSCAR only FULLY_CONNECTED. Activation
# ranges are min/max for every algorithm: the library has no percentile or MSE activation ranges.
CLIPPED_WEIGHTS = "OCTAV"


@dataclass(frozen=True)
class KeptFloat:
    """An op litert-quantizer leaves float: its type (TFLOperationName value) and output tensor."""

    op: str
    tensor: str


def quantize(float_bytes: bytes, recipe_name: str, calibration: np.ndarray | None = None,
             keep_float: Sequence[KeptFloat] = (), *, weight_algorithm: str | None = None,
             io_dtype: str = "float32") -> bytes:
    """`float_bytes` quantized by the recipe `litert_quantizer.recipe.<recipe_name>()` (with
    `weight_algorithm`, an `AlgorithmName` value, for its weights when given), with float32 or int8
    I/O and each op in `keep_float` left float (NO_QUANTIZE)."""
    q = quantizer_for(float_bytes, recipe_name, keep_float, weight_algorithm, io_dtype)
    try:
        with quiet():
            calibrated = q.calibrate(signature_batches(float_bytes, calibration)) if q.need_calibration else None
            return bytes(q.quantize(calibrated).quantized_model)
    except GateFailed:
        raise
    except Exception as error:  # the library raises ValueError/RuntimeError alike for "cannot quantize"
        raise GateFailed(f"litert-quantizer {recipe_name} failed: {str(error).splitlines()[0][:300]}") from None


def quantizer_for(float_bytes: bytes, recipe_name: str, keep_float: Sequence[KeptFloat] = (),
                  weight_algorithm: str | None = None, io_dtype: str = "float32"):
    if io_dtype not in ("float32", "int8"):
        raise GateFailed(f"litert-quantizer writes float32 or int8 inputs and outputs, not {io_dtype}")
    quantizer, qtyping, algorithms = library()
    q = quantizer.Quantizer(float_bytes)
    q.load_quantization_recipe(recipe_named(recipe_name, weight_algorithm))
    # Float I/O: an int8 output tensor would undo a float last op (checked: the logits QUANTIZEd again).
    # Quantized INPUT and OUTPUT give int8 I/O and no float op at all (checked).
    kept = [(".*", "INPUT"), (".*", "OUTPUT")] if io_dtype == "float32" else []
    # An anchored regex matched nothing (checked); the escaped name matches any tensor containing it.
    kept += [(re.escape(op.tensor), op.op) for op in keep_float]
    for regex, op in kept:
        q.update_quantization_recipe(regex=regex, operation_name=qtyping.TFLOperationName(op),
                                     algorithm_key=algorithms.AlgorithmName.NO_QUANTIZE)
    return q


@contextmanager
def quiet():
    """litert-quantizer prints sizes and timings to stdout and progress bars to stderr: not ours to show."""
    with open(os.devnull, "w") as sink, redirect_stdout(sink), redirect_stderr(sink):
        yield


def library():
    from litert_quantizer import algorithm_manager, qtyping, quantizer

    return quantizer, qtyping, algorithm_manager


def recipe_named(name: str, weight_algorithm: str | None = None):
    from litert_quantizer import recipe

    recipe_function = getattr(recipe, name)
    return recipe_function() if weight_algorithm is None else recipe_function(
        algorithm_key=recipe.AlgorithmName(weight_algorithm))


def signature_batches(float_bytes: bytes, images: np.ndarray | None) -> dict[str, list[dict[str, np.ndarray]]]:
    """`images` as litert-quantizer's calibration and validation data: per signature, one feed per image."""
    if images is None or len(images) == 0:
        raise GateFailed("litert-quantizer needs a representative dataset (convert.representative_samples > 0)")
    from ai_edge_litert.interpreter import Interpreter

    signature, details = next(iter(Interpreter(model_content=float_bytes).get_signature_list().items()))
    input_name = details["inputs"][0]
    return {signature: [{input_name: image[None, ...].astype(np.float32)} for image in images]}
