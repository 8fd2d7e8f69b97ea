"""The conversion stage: convert a model source for one precision (cached), stamp metadata."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from edgebuild.converters import tflite
from edgebuild.converters.export import ModelSource, exported_cached
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.metadata import add_json_metadata
from edgebuild.events import Events
from edgebuild.toolchain.cache import StageCache, cache_key, code_version
from edgebuild.toolchain.pipeline import training_versions

MODEL_FILE = "model.tflite"


@dataclass(frozen=True)
class Calibration:
    """Where the representative dataset comes from: a seeded draw of `samples` training images."""

    x_train: np.ndarray
    samples: int
    seed: int

    def images(self) -> np.ndarray:
        return tflite.representative_images(self.x_train, self.samples, self.seed)


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


def convert_cached(source: ModelSource, precision: str, io_dtype: str, calibration: Calibration,
                   cache: StageCache, versions: dict, scope: str, events: Events) -> Conversion:
    """The .tflite for `source` at `precision`, from the cache or converted from its (cached) SavedModel."""
    inputs = conversion_inputs(source.key, precision, io_dtype, calibration.samples, calibration.seed, versions)
    key = cache_key(inputs)
    events.emit("stage_started", stage="convert", precision=precision, key=key)
    started = time.perf_counter()
    with cache.locked(key):
        entry = cache.lookup(key)
        if entry is None:
            saved_model = exported_cached(source, cache, events)
            model_bytes = tflite.convert(saved_model, precision, io_dtype, calibration.images())
            with cache.produce(key, "convert") as scratch:
                (scratch / MODEL_FILE).write_bytes(model_bytes)
        else:
            model_bytes = (entry / MODEL_FILE).read_bytes()
    cache.index.record(scope, inputs)
    seconds = time.perf_counter() - started
    events.emit("stage_cached" if entry else "stage_finished", stage="convert", key=key, seconds=seconds)
    return Conversion(model_bytes, precision, io_dtype, key, entry is not None, seconds,
                      weight_sparsity(model_bytes), inputs, source.stage)


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


def with_metadata(model_bytes: bytes, dataset, provenance: dict) -> bytes:
    """Labels, layout, normalization and provenance inside the file, so an app can read how to feed it.

    Provenance holds names, hashes and versions only: no paths and no clock, so two builds of the
    same inputs stay byte-identical.
    """
    document = {
        "labels": list(dataset.class_names),
        "input": {"layout": "NHWC", "shape": [1, *dataset.input_shape],
                  "normalization": dataset.normalization.as_dict()},
        "provenance": provenance,
    }
    return add_json_metadata(model_bytes, document)
