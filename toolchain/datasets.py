"""What prepared data is: images, labels, class names, the split and how pixels were scaled.

Plain NumPy types, so every stage and the gate can read a dataset without loading the code that
prepares one (toolchain/data.py): a change there reruns only the stages that consume its result.

Images from an 8-bit source (Fashion-MNIST, PNG/JPEG folders) stay uint8, a quarter of float32's
memory (Fashion-MNIST's 70,000 images: 55 MB, not 220); others are float32 in [0, 1]. A model is
fed `model_input(images)`, a batch or a chunk at a time: training batches stream through tf.data
(toolchain/augment.py), Keras inference goes CHUNK_ROWS images at a time (`in_chunks`) and an
interpreter child gets the uint8 pixels (`save_labelled`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PIXEL_MAX = 255.0
CHUNK_ROWS = 4096  # a multiple of the 256-image predict batch: chunked or not, the model sees the same batches


def model_input(images: np.ndarray) -> np.ndarray:
    """What a model takes: 8-bit pixels scaled to [0, 1] (x / 255, as the converter's metadata says),
    float images as they are."""
    divisor = pixel_divisor(images)
    return images.astype(np.float32, copy=False) if divisor is None else images.astype(np.float32) / divisor


def pixel_divisor(images: np.ndarray) -> np.ndarray | None:
    """What 8-bit images are divided by to become model input (here, and in an interpreter child that
    reads them raw); None for float images."""
    return np.float32(PIXEL_MAX) if images.dtype == np.uint8 else None


def save_labelled(path, images: np.ndarray, labels: np.ndarray) -> None:
    """The .npz an interpreter child reads (on_device_bench/accuracy.py), `y` as int64: 8-bit images
    stay uint8 beside their `x_divisor`; others are `x` as model input."""
    divisor = pixel_divisor(images)
    pixels = {"x": model_input(images)} if divisor is None else {"x": images, "x_divisor": divisor}
    np.savez(path, **pixels, y=labels.astype(np.int64))


def in_chunks(function, images: np.ndarray) -> np.ndarray:
    """`function(model_input(chunk))` over CHUNK_ROWS images at a time, concatenated, so 8-bit images
    are never all float32 at once; float images go in whole (they already are)."""
    if images.dtype != np.uint8:
        return function(images)
    return np.concatenate([function(model_input(images[start:start + CHUNK_ROWS]))
                           for start in range(0, len(images), CHUNK_ROWS)])


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
    images: np.ndarray  # (N, H, W, C): uint8 pixels from an 8-bit source, else float32 in [0, 1]
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
