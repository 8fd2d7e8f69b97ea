"""Data sources: where labelled images come from, each able to say what it is (for cache keys)
without being read, and to read itself.

`sklearn:digits` ships with scikit-learn (no download); a folder holds one sub-folder of PNG/JPEG
images per class (class ids = sorted folder names); a `.npz` holds `x` and `y`.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from edgebuild.base.cache import file_sha256
from edgebuild.base.errors import BadInput
from edgebuild.toolchain.datasets import Normalization, RawData

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DIGITS = "sklearn:digits"


@dataclass(frozen=True)
class Source:
    """One data source; `fingerprint` is cheap (no decoding) and changes whenever `read` would."""

    spec: str  # as the user wrote it
    path: Path | None  # resolved against the recipe's folder; None for a bundled dataset
    flag: str = "data.source"  # what its errors name: the recipe field or the CLI option

    def fingerprint(self) -> dict:
        if self.path is None:
            return {"bundled": self.spec, "scikit-learn": version("scikit-learn")}
        if self.path.is_file():
            return {"file": self.path.name, "sha256": file_sha256(self.path)}
        digest = hashlib.sha256()  # path, size and mtime of every file, as make does
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            status = file.stat()
            digest.update(f"{file.relative_to(self.path).as_posix()}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
        return {"folder": self.path.name, "files_sha256": digest.hexdigest()}

    def read(self) -> RawData:
        if self.path is None:
            return _sklearn_digits()
        try:
            return _image_folder(self.path) if self.path.is_dir() else _npz(self.path)
        except BadInput as error:
            raise BadInput(f"{self.flag}: {error}") from None


def open_source(source: str, base_dir: Path | None = None, *, flag: str = "data.source") -> Source:
    """The source `source` names, or BadInput naming `flag` (the recipe field or the CLI option)."""
    if source == DIGITS:
        return Source(source, None, flag)
    if source.startswith("sklearn:"):
        raise BadInput(f"{flag}: unknown bundled dataset {source!r}: expected {DIGITS!r}")
    path = Path(source)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise BadInput(f"{path}: data source not found ({flag}: expected {DIGITS}, a folder or a .npz)")
    if not path.is_dir() and path.suffix != ".npz":
        raise BadInput(f"{path}: unsupported data source ({flag}: expected a folder of class folders or a .npz file)")
    return Source(source, path, flag)


def _sklearn_digits() -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # The 8x8 digits hold counts 0..16 of an original 32x32 bitmap, not 8-bit pixels.
    images = (digits.images.astype(np.float32) / 16.0)[..., None]
    labels = digits.target.astype(np.int64)
    return RawData(images, labels, tuple(str(c) for c in range(10)), Normalization(1 / 16, 0.0, (0.0, 16.0)),
                   hash_arrays(digits.images, labels))


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
                   hash_arrays(x, y))


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


def hash_arrays(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        contiguous = np.ascontiguousarray(array)
        digest.update(f"{contiguous.dtype}{contiguous.shape}".encode())
        digest.update(contiguous.tobytes())
    return digest.hexdigest()
