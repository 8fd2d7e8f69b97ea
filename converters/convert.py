"""The conversion stage: the exported SavedModel → a .tflite at one target's precision, cached."""

from __future__ import annotations

import json
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
from edgebuild.converters.litert_quant import KeptFloat
from edgebuild.converters.sensitivity import most_recovering

MODEL_FILE = "model.tflite"
KEPT_FLOAT_FILE = "kept_float.json"


@dataclass(frozen=True)
class Conversion:
    model_bytes: bytes  # without edgebuild's metadata
    weight_sparsity: float  # zeros in CONV_2D/FULLY_CONNECTED weight buffers, counted in the flatbuffer
    kept_float: tuple[KeptFloat, ...] = ()  # ops a selective-fallback conversion left float


@dataclass(frozen=True)
class ConvertStage(Stage[Conversion]):
    target: Target
    representative_samples: int
    seed: int
    versions: dict[str, str]
    # The ladder's selective fallback: keep this many ops float, chosen among the `candidates` worst
    # by int8 error, greedily for the top-1 they recover on the validation split (0: none).
    keep_float: int = 0
    candidates: int = 0
    # The ladder's clipped int8: litert-quantizer with OCTAV-clipped weight ranges (precision int8).
    clipped_weights: bool = False
    name = "convert"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        calibrated = PRECISIONS.get(self.target.precision).needs_calibration
        return {"upstream": {name: upstream.key(name) for name in ("export", "data")},
                "precision": self.target.precision, "io_dtype": self.target.io_dtype,
                # Only a calibrated precision reads the representative set.
                "representative_samples": self.representative_samples if calibrated else None,
                "seed": self.seed, "versions": {name: self.versions.get(name) for name in
                                                ("tensorflow", "ai-edge-litert", "numpy")},
                # Only a fallback or a clipped conversion has these: every other key stays what it was.
                **({"keep_float": self.keep_float, "candidates": self.candidates} if self.keep_float else {}),
                **({"clipped_weights": True} if self.clipped_weights else {})}

    def run(self, upstream: Upstream, scratch: Path) -> Conversion:
        calibration = None
        if PRECISIONS.get(self.target.precision).needs_calibration:
            x_train = upstream.output("data").x_train
            calibration = tflite.representative_images(x_train, self.representative_samples, self.seed)
        saved_model = upstream.entry("export") / SAVED_MODEL
        kept = self._ops_to_keep_float(saved_model, upstream.output("data"), calibration) if self.keep_float else ()
        if self.clipped_weights:
            model_bytes = tflite.convert_clipped_int8(saved_model, self.target.io_dtype, calibration)
        else:
            model_bytes = tflite.convert(saved_model, self.target.precision, self.target.io_dtype, calibration, kept)
        (scratch / MODEL_FILE).write_bytes(model_bytes)
        (scratch / KEPT_FLOAT_FILE).write_text(json.dumps([[op.op, op.tensor] for op in kept]))
        return Conversion(model_bytes, weight_sparsity(model_bytes), kept)

    def _ops_to_keep_float(self, saved_model: Path, dataset, calibration: np.ndarray) -> tuple[KeptFloat, ...]:
        # Chosen on the validation split when there is one: the test split judges the result.
        x, y = (dataset.x_val, dataset.y_val) if len(dataset.y_val) else (dataset.x_train, dataset.y_train)
        float_bytes = tflite.convert(saved_model, "float32", "float32", None)
        return tuple(most_recovering(float_bytes, calibration, x, y, self.keep_float, self.candidates))

    def load(self, upstream: Upstream, entry: Path) -> Conversion:
        model_bytes = (entry / MODEL_FILE).read_bytes()
        kept_file = entry / KEPT_FLOAT_FILE
        kept = tuple(KeptFloat(*op) for op in json.loads(kept_file.read_text())) if kept_file.exists() else ()
        return Conversion(model_bytes, weight_sparsity(model_bytes), kept)


def weight_sparsity(model_bytes: bytes) -> float:
    weights = [array for _, array in read_model(model_bytes).weights()]
    total = sum(array.size for array in weights)
    return float(sum(np.count_nonzero(array == 0) for array in weights) / total) if total else 0.0
