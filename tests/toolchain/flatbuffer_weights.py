"""Facts counted in a .tflite's CONV_2D and FULLY_CONNECTED weight buffers (read with the flatbuffer reader)."""

from __future__ import annotations

import numpy as np

from edgebuild.converters.flatbuffer import read_model


def weight_arrays(model_bytes: bytes) -> list[np.ndarray]:
    """FULLY_CONNECTED weights are [out, in], CONV_2D [out, h, w, in]: input channels run along the last axis."""
    return [array for _, array in read_model(model_bytes).weights()]


def zero_fraction(model_bytes: bytes) -> float:
    arrays = weight_arrays(model_bytes)
    return sum(np.count_nonzero(a == 0) for a in arrays) / sum(a.size for a in arrays)


def distinct_values_per_output_channel(model_bytes: bytes) -> list[int]:
    return [len(np.unique(channel)) for array in weight_arrays(model_bytes) for channel in array]
