"""Describes a model's inputs and outputs and fills every input with synthetic data."""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np


def describe(details: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [
        {
            "name": detail["name"],
            "shape": [int(dim) for dim in detail["shape"]],
            "dtype": np.dtype(detail["dtype"]).name,
        }
        for detail in details
    ]


def fill_synthetic_inputs(interpreter: Any, seed: int = 0) -> None:
    random = np.random.default_rng(seed)
    for detail in interpreter.get_input_details():
        shape = tuple(int(dim) for dim in detail["shape"])
        interpreter.set_tensor(detail["index"], synthetic_array(np.dtype(detail["dtype"]), shape, random))


def synthetic_array(dtype: np.dtype, shape: tuple, random: np.random.Generator) -> np.ndarray:
    if dtype == np.bool_:
        return random.integers(0, 2, size=shape).astype(np.bool_)
    if dtype.kind == "f":
        return random.uniform(-1.0, 1.0, size=shape).astype(dtype)
    if dtype in (np.int32, np.int64):
        # Wide integer inputs are usually indices or lengths (token ids, gather indices):
        # random values would index out of bounds, so feed zeros, which every such op accepts.
        return np.zeros(shape, dtype=dtype)
    limits = np.iinfo(dtype)
    return random.integers(int(limits.min), int(limits.max) + 1, size=shape, dtype=dtype)
