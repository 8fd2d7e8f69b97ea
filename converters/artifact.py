"""The conversion stage: pick the source model for a precision, convert (cached), stamp metadata."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from edgebuild.converters import tflite
from edgebuild.converters.export import exported_cached
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.metadata import add_json_metadata
from edgebuild.toolchain.cache import StageCache, cache_key, code_version
from edgebuild.toolchain.pipeline import conversion_source, training_versions

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
    inputs: dict
    source_stage: str


def convert_cached(ctx, trained, cache: StageCache, versions: dict, precision: str, io_dtype: str,
                   scope: str) -> Conversion:
    source = conversion_source(precision, list(trained.models))
    samples = ctx.recipe.convert.representative_samples
    inputs = conversion_inputs(trained.outcome(source).key, precision, io_dtype, samples, ctx.seed, versions)
    key = cache_key(inputs)
    ctx.events.emit("stage_started", stage="convert", precision=precision, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        if entry is None:
            saved_model = exported_cached(ctx, trained, source, cache)
            calibration = tflite.representative_images(ctx.dataset.x_train, samples, ctx.seed)
            model_bytes = tflite.convert(saved_model, precision, io_dtype, calibration)
            with cache.produce(key) as scratch:
                (scratch / MODEL_FILE).write_bytes(model_bytes)
        else:
            model_bytes = (entry / MODEL_FILE).read_bytes()
    cache.index.record(scope, inputs)
    seconds = time.perf_counter() - started
    ctx.events.emit("stage_cached" if entry else "stage_finished", stage="convert", key=key, seconds=seconds)
    return Conversion(model_bytes, precision, io_dtype, key, entry is not None, seconds,
                      weight_sparsity(model_bytes), inputs, source)


def conversion_inputs(source_key: str, precision: str, io_dtype: str, samples: int, seed: int,
                      versions: dict) -> dict:
    """What a conversion depends on; its hash is the convert stage's cache key."""
    return {"stage": "convert", "code": code_version(tflite.__file__), "upstream": source_key, "precision": precision,
            "io_dtype": io_dtype, "representative_samples": samples, "seed": seed,
            "versions": training_versions(versions)}


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
