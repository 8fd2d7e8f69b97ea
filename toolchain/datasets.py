"""What prepared data is: images in [0, 1], labels, class names, the split and how pixels were scaled.

Plain NumPy types, so every stage and the gate can read a dataset without loading the code that
prepares one (toolchain/data.py): a change there reruns only the stages that consume its result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Normalization:
    """How raw pixels become model inputs: `input = raw * scale + offset`."""

    scale: float
    offset: float
    raw_range: tuple[float, float]

    def as_dict(self) -> dict:
        return {"scale": self.scale, "offset": self.offset, "raw_range": list(self.raw_range), "input_range": [0.0, 1.0]}

    @classmethod
    def from_dict(cls, document: dict) -> Normalization:
        return cls(document["scale"], document["offset"], tuple(document["raw_range"]))


@dataclass(frozen=True)
class RawData:
    images: np.ndarray  # (N, H, W, C) in [0, 1]
    labels: np.ndarray  # (N,) int
    class_names: tuple[str, ...]
    normalization: Normalization
    sha256: str
    test_indices: np.ndarray | None = None  # a source's own test split (Fashion-MNIST's 10,000), kept as is


@dataclass(frozen=True)
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_all: np.ndarray
    y_all: np.ndarray
    class_names: tuple[str, ...]
    normalization: Normalization
    sha256: str
    split: tuple[np.ndarray, np.ndarray, np.ndarray]  # train, validation and test indices into x_all

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_all.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def dataset_from_split(images: np.ndarray, labels: np.ndarray, split: tuple[np.ndarray, np.ndarray, np.ndarray],
                       class_names: tuple[str, ...], normalization: Normalization, sha256: str) -> Dataset:
    """`split`: the train, validation and test indices into `images`."""
    train, val, test = split
    return Dataset(images[train], labels[train], images[val], labels[val], images[test], labels[test], images,
                   labels, class_names, normalization, sha256, split)
