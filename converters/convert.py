"""The conversion stage: the exported SavedModel → a .tflite at one target's precision, cached."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.precisions import PRECISIONS
from edgebuild.config.targets import Target
from edgebuild.converters import tflite
from edgebuild.converters.export import SAVED_MODEL
from edgebuild.converters.flatbuffer import read_model

MODEL_FILE = "model.tflite"


@dataclass(frozen=True)
class Conversion:
    model_bytes: bytes  # without edgebuild's metadata
    weight_sparsity: float  # zeros in CONV_2D/FULLY_CONNECTED weight buffers, counted in the flatbuffer


@dataclass(frozen=True)
class ConvertStage(Stage[Conversion]):
    target: Target
    representative_samples: int
    seed: int
    versions: dict[str, str]
    name = "convert"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        calibrated = PRECISIONS.get(self.target.precision).needs_calibration
        return {"upstream": {name: upstream.key(name) for name in ("export", "data")},
                "precision": self.target.precision, "io_dtype": self.target.io_dtype,
                # Only a calibrated precision reads the representative set.
                "representative_samples": self.representative_samples if calibrated else None,
                "seed": self.seed, "versions": {name: self.versions.get(name) for name in
                                                ("tensorflow", "ai-edge-litert", "numpy")}}

    def run(self, upstream: Upstream, scratch: Path) -> Conversion:
        calibration = None
        if PRECISIONS.get(self.target.precision).needs_calibration:
            x_train = upstream.output("data").x_train
            calibration = tflite.representative_images(x_train, self.representative_samples, self.seed)
        model_bytes = tflite.convert(upstream.entry("export") / SAVED_MODEL, self.target.precision,
                                     self.target.io_dtype, calibration)
        (scratch / MODEL_FILE).write_bytes(model_bytes)
        return Conversion(model_bytes, weight_sparsity(model_bytes))

    def load(self, upstream: Upstream, entry: Path) -> Conversion:
        model_bytes = (entry / MODEL_FILE).read_bytes()
        return Conversion(model_bytes, weight_sparsity(model_bytes))


def weight_sparsity(model_bytes: bytes) -> float:
    weights = [array for _, array in read_model(model_bytes).weights()]
    total = sum(array.size for array in weights)
    return float(sum(np.count_nonzero(array == 0) for array in weights) / total) if total else 0.0
