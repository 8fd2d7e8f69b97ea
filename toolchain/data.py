"""Data: one source string → resized, [0, 1]-scaled, stratified train/validation/test splits.

Sources: `sklearn:digits` (ships with scikit-learn, no download), a folder with one sub-folder of
PNG/JPEG images per class (class ids = sorted folder names), or a `.npz` with `x` and `y`.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgebuild.errors import BadInput

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Bilinear upscaling past 4x adds no detail a model could learn from, only blur: a smaller image is
# refused rather than silently stretched. The bundled digits go 8x8 → 16x16 (2x) on purpose.
MAX_UPSCALE = 4


@dataclass(frozen=True)
class Normalization:
    """How raw pixels become model inputs: `input = raw * scale + offset`."""

    scale: float
    offset: float
    raw_range: tuple[float, float]

    def as_dict(self) -> dict:
        return {"scale": self.scale, "offset": self.offset, "raw_range": list(self.raw_range), "input_range": [0.0, 1.0]}


@dataclass(frozen=True)
class RawData:
    images: np.ndarray  # (N, H, W, C) in [0, 1]
    labels: np.ndarray  # (N,) int
    class_names: tuple[str, ...]
    normalization: Normalization
    sha256: str


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


def load_dataset(source: str, input_size: tuple[int, int], *, validation_fraction: float, test_fraction: float,
                 seed: int, base_dir: Path | None = None) -> Dataset:
    """Load, check, resize and split; the split depends only on the data and the seed."""
    raw = read_source(source, base_dir)
    _check_upscale(source, raw.images.shape[1:3], input_size)
    images = resize_images(raw.images, input_size)
    return _split(source, raw, images, validation_fraction, test_fraction, seed)


def read_source(source: str, base_dir: Path | None = None) -> RawData:
    if source == "sklearn:digits":
        return _sklearn_digits()
    if source.startswith("sklearn:"):
        raise BadInput(f"data.source: unknown bundled dataset {source!r}: expected 'sklearn:digits'")
    path = Path(source)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise BadInput(f"{path}: data source not found (data.source: expected sklearn:digits, a folder or a .npz)")
    if path.is_dir():
        return _image_folder(path)
    if path.suffix == ".npz":
        return _npz(path)
    raise BadInput(f"{path}: unsupported data source: expected a folder of class folders or a .npz file")


def _check_upscale(source: str, image_size: tuple[int, int], input_size: tuple[int, int]) -> None:
    if any(wanted > MAX_UPSCALE * have for have, wanted in zip(image_size, input_size)):
        (height, width), (wanted_height, wanted_width) = image_size, input_size
        raise BadInput(f"{source}: images are {height}x{width}, too small for data.input_size "
                       f"{wanted_height}x{wanted_width}: expected at most {MAX_UPSCALE}x upscaling (images of at least "
                       f"{-(-wanted_height // MAX_UPSCALE)}x{-(-wanted_width // MAX_UPSCALE)}, or a smaller input_size)")


def resize_images(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if images.shape[1:3] == tuple(size):
        return images.astype(np.float32)
    import tensorflow as tf

    return tf.image.resize(images, size, method="bilinear").numpy().astype(np.float32)


def _sklearn_digits() -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # The 8x8 digits hold counts 0..16 of an original 32x32 bitmap, not 8-bit pixels.
    images = (digits.images.astype(np.float32) / 16.0)[..., None]
    labels = digits.target.astype(np.int64)
    return RawData(images, labels, tuple(str(c) for c in range(10)), Normalization(1 / 16, 0.0, (0.0, 16.0)),
                   _hash_arrays(digits.images, labels))


def _image_folder(root: Path) -> RawData:
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise BadInput(f"{root}: no class folders: expected one sub-folder of images per class")
    pixels, labels = [], []
    digest = hashlib.sha256()
    for class_id, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.iterdir() if not p.name.startswith("."))
        if not files:
            raise BadInput(f"{class_dir}: empty class folder: expected PNG or JPEG images")
        for file in files:
            pixels.append(_read_image(file))
            if pixels[-1].shape[:2] != pixels[0].shape[:2]:
                raise BadInput(f"{file}: image is {'x'.join(map(str, pixels[-1].shape[:2]))}, the others "
                               f"{'x'.join(map(str, pixels[0].shape[:2]))}: expected one size in {root}")
            labels.append(class_id)
            digest.update(file.read_bytes())
    _check_classes(root, len(class_dirs))
    channels = max(p.shape[-1] for p in pixels)
    images = np.stack([np.repeat(p, channels // p.shape[-1], axis=-1) for p in pixels]).astype(np.float32) / 255.0
    return RawData(images, np.array(labels, dtype=np.int64), tuple(d.name for d in class_dirs),
                   Normalization(1 / 255, 0.0, (0.0, 255.0)), digest.hexdigest())


def _read_image(file: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    if file.suffix.lower() not in IMAGE_SUFFIXES:
        raise BadInput(f"{file}: not an image: expected {', '.join(IMAGE_SUFFIXES)} files in class folders")
    try:
        with Image.open(file) as image:
            image.load()
            mode = "L" if image.mode in ("1", "L", "I;16", "I", "F") else "RGB"
            array = np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as error:
        raise BadInput(f"{file}: corrupt or unreadable image ({error.__class__.__name__})") from None
    return array[..., None] if array.ndim == 2 else array


def _npz(path: Path) -> RawData:
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a lone .npy array behind an .npz name
            raise BadInput(f"{path}: one array, not an .npz archive: expected 'x' (images) and 'y' (labels)")
        with archive:
            missing = [key for key in ("x", "y") if key not in archive.files]
            if missing:
                raise BadInput(f"{path}: missing array(s) {missing}: expected 'x' (images) and 'y' (labels)")
            x, y = archive["x"], archive["y"]
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise BadInput(f"{path}: unreadable .npz ({error})") from None
    return _checked_arrays(path, x, y)


def _checked_arrays(path: Path, x: np.ndarray, y: np.ndarray) -> RawData:
    if x.ndim not in (3, 4) or len(x) != len(y) or y.ndim != 1:
        raise BadInput(f"{path}: x has shape {x.shape} and y {y.shape}: expected x (N, H, W[, C]) and y (N,)")
    if len(y) == 0:
        raise BadInput(f"{path}: no samples: expected x and y to hold at least one image per class")
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise BadInput(f"{path}: x: expected integer or float pixels, got dtype {x.dtype}")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
        raise BadInput(f"{path}: y: expected non-negative integer class ids, got dtype {y.dtype}, min {y.min()}")
    absent = sorted(set(range(int(y.max()) + 1)) - set(np.unique(y).tolist()))
    if absent:  # the model would get an output for a class it never sees
        raise BadInput(f"{path}: y: class ids {absent[:10]} have no samples: expected every id from 0 to {y.max()}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise BadInput(f"{path}: x: contains NaN or inf values")
    images = x[..., None] if x.ndim == 3 else x
    normalization = _value_range(path, images)
    scaled = images.astype(np.float32) * normalization.scale
    num_classes = int(y.max()) + 1
    _check_classes(path, len(np.unique(y)))
    return RawData(scaled, y.astype(np.int64), tuple(str(c) for c in range(num_classes)), normalization,
                   _hash_arrays(x, y))


def _value_range(path: Path, images: np.ndarray) -> Normalization:
    low, high = float(images.min()), float(images.max())
    if low >= 0.0 and high <= 1.0 and np.issubdtype(images.dtype, np.floating):
        return Normalization(1.0, 0.0, (0.0, 1.0))
    if low >= 0.0 and high <= 255.0:
        return Normalization(1 / 255, 0.0, (0.0, 255.0))
    raise BadInput(f"{path}: x: values in [{low}, {high}]: expected floats in [0, 1] or 8-bit values in [0, 255]")


def _check_classes(where: Path, count: int) -> None:
    if count < 2:
        raise BadInput(f"{where}: only {count} class: expected at least 2 classes to train a classifier")


def _hash_arrays(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()


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


def dataset_from_split(images: np.ndarray, labels: np.ndarray, split: tuple[np.ndarray, np.ndarray, np.ndarray],
                       class_names: tuple[str, ...], normalization: Normalization, sha256: str) -> Dataset:
    """`split`: the train, validation and test indices into `images`."""
    train, val, test = split
    return Dataset(images[train], labels[train], images[val], labels[val], images[test], labels[test], images,
                   labels, class_names, normalization, sha256, split)
