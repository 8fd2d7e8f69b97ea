"""Image folders made from scikit-learn's digits, written into a test's tmp_path (nothing in git)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_digit_folder(root: Path, *, size: int = 8, per_class: int | None = None,
                       shifts: tuple[int, ...] = (0,)) -> Path:
    """One sub-folder per digit of 8-bit grayscale PNGs: each sklearn digit upscaled to size×size,
    once per horizontal pixel shift in `shifts` (so 1,797 digits × 2 shifts = 3,594 images)."""
    from PIL import Image

    for index, gray, label in _digits(per_class):
        image = Image.fromarray(gray).resize((size, size), Image.BILINEAR)
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        for shift in shifts:
            shifted = np.roll(np.asarray(image), shift, axis=1)
            Image.fromarray(shifted).save(folder / f"{index:04d}_{shift}.png")
    return root


MIXED_SIZES = ((8, 8), (12, 12), (10, 14), (16, 12))  # height x width


def write_mixed_folder(root: Path, *, per_class: int | None = None) -> Path:
    """sklearn's digits as RGB photos of four sizes (two not square), alternately JPEG and PNG, one
    sub-folder per digit: what a phone team's folder looks like, at digits scale."""
    from PIL import Image

    for index, gray, label in _digits(per_class):
        tinted = np.stack([gray, np.uint8(gray * 0.8), np.uint8(gray * 0.6)], axis=-1)
        height, width = MIXED_SIZES[index % len(MIXED_SIZES)]
        image = Image.fromarray(tinted, "RGB").resize((width, height), Image.BILINEAR)
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        if index % 2:
            image.save(folder / f"{index:04d}.jpg", quality=95)
        else:
            image.save(folder / f"{index:04d}.png")
    return root


def _digits(per_class: int | None):
    """(index, 8-bit 8x8 image, label) of sklearn's digits, at most `per_class` of each label."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    counts: dict[int, int] = {}
    for index, (pixels, label) in enumerate(zip(digits.images, digits.target)):
        if per_class is not None and counts.get(label, 0) >= per_class:
            continue
        counts[label] = counts.get(label, 0) + 1
        yield index, np.uint8(pixels * 255 / 16), label
