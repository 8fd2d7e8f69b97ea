"""Top-1 accuracy of a single-input classifier on a labelled .npz.

The .npz holds `y` (integer labels) and `x`: the model inputs (NHWC), or, beside a scalar
`x_divisor`, raw 8-bit pixels whose model input is `float32(x) / x_divisor`. Raw pixels are a
quarter of float32's bytes on disk, over the wire to a device and in memory: they become model
input BLOCK_ROWS samples at a time.
"""

from __future__ import annotations

import zipfile
from typing import Any, Dict, Optional, Tuple

import numpy as np

from .errors import BenchError

BLOCK_ROWS = 4096


def top1_accuracy(interpreter: Any, data_path: str) -> Optional[Dict[str, Any]]:
    """{"top1", "samples"}, or None when the model is not a single-input classifier."""
    inputs = interpreter.get_input_details()
    if len(inputs) != 1:
        return None
    samples, labels, divisor = load_labelled(data_path)
    input_shape = tuple(int(dim) for dim in inputs[0]["shape"])
    if samples.shape[1:] != input_shape[1:]:
        raise BenchError(
            f"x has samples of shape {list(samples.shape[1:])}, the model input takes {list(input_shape[1:])}",
            data_path,
        )
    predicted = np.argmax(predict_scores(interpreter, samples, divisor), axis=1)
    return {"top1": float(np.mean(predicted == labels)), "samples": len(labels)}


def predict_scores(interpreter: Any, samples: np.ndarray, divisor: Optional[np.ndarray] = None) -> np.ndarray:
    """The single-input model's first output, dequantized: (samples, outputs). The samples are model
    inputs, or raw pixels to divide by `divisor` first."""
    model_input = interpreter.get_input_details()[0]
    output = interpreter.get_output_details()[0]
    input_shape = tuple(int(dim) for dim in model_input["shape"])
    batch = max(input_shape[0], 1) if input_shape else 1
    block_rows = batch * -(-BLOCK_ROWS // batch)  # whole batches, so only the last one can be short
    scores = []
    for block_start in range(0, len(samples), block_rows):
        block = model_inputs(samples[block_start : block_start + block_rows], divisor, model_input)
        for start in range(0, len(block), batch):
            chunk = block[start : start + batch]
            real = len(chunk)
            if real < batch:
                # A fixed batch larger than the remainder: pad by repeating, keep only real samples.
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], batch - real, axis=0)])
            interpreter.set_tensor(model_input["index"], chunk)
            interpreter.invoke()
            scores.append(interpreter.get_tensor(output["index"]).reshape(batch, -1)[:real])
    return _dequantized(np.concatenate(scores), output)


def model_inputs(samples: np.ndarray, divisor: Optional[np.ndarray], model_input: Dict[str, Any]) -> np.ndarray:
    """What the model's input tensor takes for these samples: divided by `divisor` when raw, then
    quantized with the input's scale and zero point when it is an integer tensor."""
    return _to_input_space(samples if divisor is None else samples.astype(np.float32) / divisor, model_input)


def load_labelled(data_path: str) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray]]:
    """(x, y, x_divisor or None) of a labelled .npz, checked; BenchError naming the file otherwise."""
    try:
        loaded = np.load(data_path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise BenchError("expected an .npz archive with arrays x and y", data_path)
        with loaded as archive:
            missing = [key for key in ("x", "y") if key not in archive.files]
            if missing:
                raise BenchError("missing array " + " and ".join(missing), data_path)
            samples, labels = archive["x"], archive["y"]
            divisor = archive["x_divisor"] if "x_divisor" in archive.files else None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise BenchError(f"cannot read the data: {error}", data_path)
    if samples.dtype.kind not in "fiu":
        raise BenchError("x must hold numbers, got " + samples.dtype.name, data_path)
    if labels.dtype.kind not in "iu":
        raise BenchError("y must hold integer labels, got " + labels.dtype.name, data_path)
    if samples.ndim < 1 or labels.ndim != 1 or len(samples) != len(labels) or len(labels) == 0:
        raise BenchError(
            "x and y must hold the same number (> 0) of samples, "
            f"got x {list(samples.shape)} and y {list(labels.shape)}",
            data_path,
        )
    if divisor is not None and (divisor.shape != () or divisor.dtype != np.float32 or not divisor > 0):
        raise BenchError("x_divisor must be one float32 number > 0, got " + repr(divisor.tolist()), data_path)
    return samples, labels, divisor


def _dequantized(values: np.ndarray, output: Dict[str, Any]) -> np.ndarray:
    scale, zero_point = output["quantization"]
    if np.dtype(output["dtype"]).kind in "iu" and scale:
        return (values.astype(np.float32) - zero_point) * scale
    return values.astype(np.float32)


def _to_input_space(samples: np.ndarray, model_input: Dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(model_input["dtype"])
    scale, zero_point = model_input["quantization"]
    if dtype.kind in "iu" and scale:
        limits = np.iinfo(dtype)
        quantized = np.round(samples.astype(np.float64) / scale + zero_point)
        return np.clip(quantized, limits.min, limits.max).astype(dtype)
    return samples.astype(dtype)
