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
from edgebuild.toolchain.images import InputShape
from edgebuild.toolchain.sources import Source, open_source

ARRAYS_FILE = "arrays.npz"
FACTS_FILE = "facts.json"
DEFAULT_TEST_FRACTION = 0.2


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
                               flag=self.flag, resize=config.resize, channels=config.channels)
        _write(dataset, scratch)
        return dataset

    def load(self, upstream: Upstream, entry: Path) -> Dataset:
        return _read(entry)


def load_dataset(source: str, input_size: tuple[int, int], *, validation_fraction: float = 0.0,
                 test_fraction: float | None = None, seed: int = 0, base_dir: Path | None = None,
                 flag: str = "data.source", resize: str = "stretch", channels: int | None = None) -> Dataset:
    """Read, check, fit to the input shape and split (not cached); the split depends only on the data
    and the seed. `test_fraction` None: the source's own test split, else 0.2."""
    opened = open_source(source, base_dir, flag=flag)
    _check_own_split(opened, test_fraction, flag)
    raw = opened.read(InputShape(tuple(input_size), resize, channels))
    return _split(source, raw, validation_fraction, test_fraction or DEFAULT_TEST_FRACTION, seed)


def _check_own_split(source: Source, test_fraction: float | None, flag: str) -> None:
    if source.has_test_split and test_fraction is not None:
        field = flag.rpartition(".")[0] or "data"
        raise BadInput(f"{field}.test_fraction: {source.spec} keeps its own test split: expected no test_fraction")


def native_image_size(source: str, base_dir: Path | None = None, *, flag: str = "--data") -> tuple[int, int]:
    """(height, width) of the source's own images: a model that states no input size takes them as they are."""
    height, width = open_source(source, base_dir, flag=flag).read(InputShape(None)).images.shape[1:3]
    return int(height), int(width)


def _split(source: str, raw: RawData, validation_fraction: float, test_fraction: float, seed: int) -> Dataset:
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(raw.labels))
    try:
        if raw.test_indices is not None:
            rest, test = np.setdiff1d(indices, raw.test_indices), raw.test_indices
            test_fraction = len(test) / len(indices)
        else:
            rest, test = train_test_split(indices, test_size=test_fraction, stratify=raw.labels, random_state=seed)
        share = validation_fraction / (1.0 - test_fraction)
        train, val = (train_test_split(rest, test_size=share, stratify=raw.labels[rest], random_state=seed)
                      if share else (rest, rest[:0]))
    except ValueError as error:
        raise BadInput(f"{source}: too few samples for a stratified split: {error}") from None
    return dataset_from_split(raw.images, raw.labels, (train, val, test), raw.class_names, raw.normalization,
                              raw.sha256)


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
