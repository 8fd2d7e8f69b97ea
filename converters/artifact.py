"""The conversion stage: pick the source model for a precision, convert (cached), stamp metadata."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebuild.converters import tflite
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.metadata import add_json_metadata
from edgebuild.toolchain.cache import StageCache, cache_key

MODEL_FILE = "model.tflite"


@dataclass(frozen=True)
class Conversion:
    model_bytes: bytes
    precision: str
    io_dtype: str
    key: str
    cached: bool
    seconds: float
    weight_sparsity: float  # zeros in CONV_2D/FULLY_CONNECTED weight buffers, counted in the flatbuffer


def convert_cached(ctx, trained, cache: StageCache, versions: dict, precision: str, io_dtype: str) -> Conversion:
    """int8 converts the QAT model when the recipe has QAT (else post-training quantization of the
    float model); float precisions convert the float model, since QAT's fake-quant nodes would quantize it."""
    use_qat = precision == "int8" and trained.quantized_model is not None
    source_key = trained.quantized_key if use_qat else trained.float_key
    samples = ctx.recipe.convert.representative_samples
    key = cache_key({"stage": "convert", "code": _code_version(), "upstream": source_key, "precision": precision,
                     "io_dtype": io_dtype, "representative_samples": samples, "seed": ctx.seed,
                     "versions": {k: v for k, v in versions.items() if k not in ("python", "edgebuild")}})
    ctx.events.emit("stage_started", stage="convert", precision=precision, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        if entry is None:
            model = trained.quantized_model() if use_qat else trained.float_model()
            calibration = tflite.representative_images(ctx.dataset.x_train, samples, ctx.seed)
            model_bytes = tflite.convert(model, precision, io_dtype, calibration)
            with cache.produce(key) as scratch:
                (scratch / MODEL_FILE).write_bytes(model_bytes)
        else:
            model_bytes = (entry / MODEL_FILE).read_bytes()
    seconds = time.perf_counter() - started
    ctx.events.emit("stage_cached" if entry else "stage_finished", stage="convert", key=key, seconds=seconds)
    return Conversion(model_bytes, precision, io_dtype, key, entry is not None, seconds, weight_sparsity(model_bytes))


def weight_sparsity(model_bytes: bytes) -> float:
    weights = [array for _, array in read_model(model_bytes).weights()]
    total = sum(array.size for array in weights)
    return float(sum(np.count_nonzero(array == 0) for array in weights) / total) if total else 0.0


def with_metadata(model_bytes: bytes, ctx, target, versions: dict, inputs: dict) -> bytes:
    """Labels, normalization and provenance inside the file, so an app can read how to feed it."""
    data = ctx.dataset
    document = {
        "labels": list(data.class_names),
        "input": {"layout": "NHWC", "shape": [1, *data.input_shape], "normalization": data.normalization.as_dict()},
        "provenance": {"recipe": ctx.recipe.name, "profile": target.profile.name, "precision": target.precision,
                       "io_dtype": target.io_dtype, "seed": ctx.seed, "inputs": inputs, "versions": versions},
    }
    return add_json_metadata(model_bytes, document)


def _code_version() -> str:
    digest = hashlib.sha256()
    digest.update(Path(tflite.__file__).read_bytes())
    return digest.hexdigest()[:16]
