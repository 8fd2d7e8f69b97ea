"""The data stage: a source read, checked, resized to `data.input_size`, scaled to [0, 1] and split
(stratified train/validation/test), then cached, so a rebuild reads one .npz instead of decoding
images, importing scikit-learn (1 s) and resizing with TensorFlow (its import alone is 2 s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.errors import BadInput
from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.recipe import DataConfig
from edgebuild.toolchain.datasets import Dataset, Normalization, RawData, dataset_from_split
from edgebuild.toolchain.sources import open_source

ARRAYS_FILE = "arrays.npz"
FACTS_FILE = "facts.json"
# Bilinear upscaling past 4x adds no detail a model could learn from, only blur: a smaller image is
# refused rather than silently stretched. The bundled digits go 8x8 → 16x16 (2x) on purpose.
MAX_UPSCALE = 4


@dataclass(frozen=True)
class DataStage(Stage[Dataset]):
    """`flag` names where the source came from in errors: the recipe field or a CLI option."""

    config: DataConfig
    seed: int
    base_dir: Path | None = None
    flag: str = "data.source"
    name = "data"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        source = open_source(self.config.source, self.base_dir, flag=self.flag)
        return {"source": source.fingerprint(), **self.config.model_dump(mode="json", exclude={"source"}),
                "seed": self.seed,
                "versions": {name: version(name) for name in ("numpy", "scikit-learn", "tensorflow")}}

    def run(self, upstream: Upstream, scratch: Path) -> Dataset:
        config = self.config
        dataset = load_dataset(config.source, config.input_size, validation_fraction=config.validation_fraction,
                               test_fraction=config.test_fraction, seed=self.seed, base_dir=self.base_dir,
                               flag=self.flag)
        _write(dataset, scratch)
        return dataset

    def load(self, upstream: Upstream, entry: Path) -> Dataset:
        return _read(entry)


def load_dataset(source: str, input_size: tuple[int, int], *, validation_fraction: float = 0.0,
                 test_fraction: float = 0.2, seed: int = 0, base_dir: Path | None = None,
                 flag: str = "data.source") -> Dataset:
    """Read, check, resize and split (not cached); the split depends only on the data and the seed."""
    raw = open_source(source, base_dir, flag=flag).read()
    _check_upscale(source, raw.images.shape[1:3], input_size)
    images = resize_images(raw.images, input_size)
    return _split(source, raw, images, validation_fraction, test_fraction, seed)


def native_image_size(source: str, base_dir: Path | None = None, *, flag: str = "--data") -> tuple[int, int]:
    """(height, width) of the source's own images: a model that states no input size takes them as they are."""
    height, width = open_source(source, base_dir, flag=flag).read().images.shape[1:3]
    return int(height), int(width)


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if images.shape[1:3] == tuple(size):
        return images.astype(np.float32)
    import tensorflow as tf

    return tf.image.resize(images, size, method="bilinear").numpy().astype(np.float32)


def _check_upscale(source: str, image_size: tuple[int, int], input_size: tuple[int, int]) -> None:
    if any(wanted > MAX_UPSCALE * have for have, wanted in zip(image_size, input_size)):
        (height, width), (wanted_height, wanted_width) = image_size, input_size
        raise BadInput(f"{source}: images are {height}x{width}, too small for data.input_size "
                       f"{wanted_height}x{wanted_width}: expected at most {MAX_UPSCALE}x upscaling (images of at least "
                       f"{-(-wanted_height // MAX_UPSCALE)}x{-(-wanted_width // MAX_UPSCALE)}, or a smaller input_size)")


def _split(source: str, raw: RawData, images: np.ndarray, validation_fraction: float, test_fraction: float,
           seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(raw.labels))
    try:
        rest, test = train_test_split(indices, test_size=test_fraction, stratify=raw.labels, random_state=seed)
        share = validation_fraction / (1.0 - test_fraction)
        train, val = (train_test_split(rest, test_size=share, stratify=raw.labels[rest], random_state=seed)
                      if share else (rest, rest[:0]))
    except ValueError as error:
        raise BadInput(f"{source}: too few samples for a stratified split: {error}") from None
    return dataset_from_split(images, raw.labels, (train, val, test), raw.class_names, raw.normalization, raw.sha256)


def _write(dataset: Dataset, folder: Path) -> None:
    train, val, test = dataset.split
    np.savez(folder / ARRAYS_FILE, images=dataset.x_all, labels=dataset.y_all, train=train, val=val, test=test)
    facts = {"class_names": list(dataset.class_names), "normalization": dataset.normalization.as_dict(),
             "sha256": dataset.sha256}
    (folder / FACTS_FILE).write_text(json.dumps(facts, sort_keys=True))


def _read(entry: Path) -> Dataset:
    facts = json.loads((entry / FACTS_FILE).read_text())
    with np.load(entry / ARRAYS_FILE, allow_pickle=False) as arrays:
        split = (arrays["train"], arrays["val"], arrays["test"])
        return dataset_from_split(arrays["images"], arrays["labels"], split, tuple(facts["class_names"]),
                                  Normalization.from_dict(facts["normalization"]), facts["sha256"])
