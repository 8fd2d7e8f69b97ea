"""Data sources: where labelled images come from, each able to say what it is (for cache keys)
without being read, and to read itself.

`sklearn:digits` ships with scikit-learn (no download); `fashion_mnist` is Debian's
`dataset-fashion-mnist` package (60,000 training and 10,000 test images, whose own test split is
kept); a folder holds one sub-folder of PNG/JPEG images per class (class ids = sorted folder names),
of any sizes; a `.npz` holds `x` and `y`. Every source is read at the model's `InputShape`.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import numpy as np

from edgebuild.base.cache import file_sha256
from edgebuild.base.errors import BadInput
from edgebuild.toolchain.datasets import Normalization, RawData
from edgebuild.toolchain.images import InputShape, fit_each, fit_images

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
DIGITS = "sklearn:digits"
FASHION_MNIST = "fashion_mnist"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                       "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}
FASHION_MNIST_CLASSES = ("t-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag",
                         "ankle boot")
BUNDLED = (DIGITS, FASHION_MNIST)


@dataclass(frozen=True)
class Source:
    """One data source; `fingerprint` is cheap (no decoding) and changes whenever `read` would."""

    spec: str  # as the user wrote it
    path: Path | None  # resolved against the recipe's folder; None for a bundled dataset
    flag: str = "data.source"  # what its errors name: the recipe field or the CLI option

    def fingerprint(self) -> dict:
        if self.spec == FASHION_MNIST:
            return {"bundled": self.spec, "files": {name: file_sha256(self.path / name) for name in _fashion_files()}}
        if self.path is None:
            return {"bundled": self.spec, "scikit-learn": version("scikit-learn")}
        if self.path.is_file():
            return {"file": self.path.name, "sha256": file_sha256(self.path)}
        digest = hashlib.sha256()  # path, size and mtime of every file, as make does
        for file in sorted(p for p in self.path.rglob("*") if p.is_file()):
            status = file.stat()
            digest.update(f"{file.relative_to(self.path).as_posix()}\0{status.st_size}\0{status.st_mtime_ns}\n".encode())
        return {"folder": self.path.name, "files_sha256": digest.hexdigest()}

    @property
    def has_test_split(self) -> bool:
        return self.spec == FASHION_MNIST

    def read(self, shape: InputShape) -> RawData:
        if self.spec == FASHION_MNIST:
            return _fashion_mnist(self.path, shape)
        if self.path is None:
            return _sklearn_digits(shape)
        try:
            return _image_folder(self.path, shape) if self.path.is_dir() else _npz(self.path, shape)
        except BadInput as error:
            raise BadInput(f"{self.flag}: {error}") from None


def open_source(source: str, base_dir: Path | None = None, *, flag: str = "data.source") -> Source:
    """The source `source` names, or BadInput naming `flag` (the recipe field or the CLI option)."""
    if source == DIGITS:
        return Source(source, None, flag)
    if source == FASHION_MNIST:
        return Source(source, _fashion_mnist_dir(flag), flag)
    if source.startswith("sklearn:"):
        raise BadInput(f"{flag}: unknown bundled dataset {source!r}: expected {DIGITS!r}")
    path = Path(source)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise BadInput(f"{path}: data source not found ({flag}: expected {' or '.join(BUNDLED)}, a folder or a .npz)")
    if not path.is_dir() and path.suffix != ".npz":
        raise BadInput(f"{path}: unsupported data source ({flag}: expected a folder of class folders or a .npz file)")
    return Source(source, path, flag)


def _fashion_mnist_dir(flag: str) -> Path:
    if not all((FASHION_MNIST_DIR / name).is_file() for name in _fashion_files()):
        raise BadInput(f"{flag}: {FASHION_MNIST} needs Debian's dataset-fashion-mnist package ({FASHION_MNIST_DIR} "
                       f"not found): apt-get install dataset-fashion-mnist")
    return FASHION_MNIST_DIR


def _fashion_files() -> tuple[str, ...]:
    return tuple(name for pair in FASHION_MNIST_FILES.values() for name in pair)


def _fashion_mnist(folder: Path, shape: InputShape) -> RawData:
    parts = {split: (_idx(folder / images), _idx(folder / labels))
             for split, (images, labels) in FASHION_MNIST_FILES.items()}
    x = np.concatenate([parts["train"][0], parts["test"][0]])
    y = np.concatenate([parts["train"][1], parts["test"][1]]).astype(np.int64)
    images = fit_images(x[..., None], shape, FASHION_MNIST)
    test = np.arange(len(parts["train"][1]), len(y))
    return RawData(images, y, FASHION_MNIST_CLASSES, Normalization(1 / 255, 0.0, (0.0, 255.0)), hash_arrays(x, y),
                   test_indices=test)


def _idx(path: Path) -> np.ndarray:
    """An IDX file (LeCun's MNIST format): magic 0x0000 0x08 (uint8) ndim, then ndim big-endian sizes."""
    data = gzip.decompress(path.read_bytes())
    if len(data) < 4 or data[:3] != b"\0\0\x08":
        raise BadInput(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    shape = tuple(int(n) for n in np.frombuffer(data, ">u4", count=ndim, offset=4))
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise BadInput(f"{path}: IDX header says {shape}, body holds {body.size} bytes")
    return body.reshape(shape)


def _sklearn_digits(shape: InputShape) -> RawData:
    from sklearn.datasets import load_digits

    digits = load_digits()
    # The 8x8 digits hold counts 0..16 of an original 32x32 bitmap, not 8-bit pixels.
    images = fit_images((digits.images.astype(np.float32) / 16.0)[..., None], shape, DIGITS)
    labels = digits.target.astype(np.int64)
    return RawData(images, labels, tuple(str(c) for c in range(10)), Normalization(1 / 16, 0.0, (0.0, 16.0)),
                   hash_arrays(digits.images, labels))


def _image_folder(root: Path, shape: InputShape) -> RawData:
    class_dirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not class_dirs:
        raise BadInput(f"{root}: no class folders: expected one sub-folder of images per class")
    pixels, labels, names = [], [], []
    digest = hashlib.sha256()
    for class_id, class_dir in enumerate(class_dirs):
        files = sorted(p for p in class_dir.iterdir() if not p.name.startswith("."))
        if not files:
            raise BadInput(f"{class_dir}: empty class folder: expected PNG or JPEG images")
        for file in files:
            pixels.append(_read_image(file))
            labels.append(class_id)
            names.append(str(file))
            digest.update(file.read_bytes())
    _check_classes(root, len(class_dirs))
    images = fit_each(pixels, shape, names)
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


def _npz(path: Path, shape: InputShape) -> RawData:
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
    return _checked_arrays(path, x, y, shape)


def _checked_arrays(path: Path, x: np.ndarray, y: np.ndarray, shape: InputShape) -> RawData:
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
    scaled = fit_images(images.astype(np.float32) * normalization.scale, shape, str(path))
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
