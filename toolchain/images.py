"""Images brought to the model's input: one size under a declared policy, one channel count.

`stretch` scales each image to the input size (aspect ratio lost); `crop` keeps the aspect, scales
the shorter side to fit and cuts the centre; `pad` keeps the aspect, scales the longer side to fit
and fills the rest with black, as `tf.image.resize_with_pad` does. Images of mixed sizes are fitted
one size group at a time, so a folder of one size gives the same bytes as a stacked array would.
8-bit images stay uint8 (a resized or gray-converted one is rounded back to whole pixel values, as
an image library's resize is); float images are float32 in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edgebuild.base.errors import BadInput

ResizePolicy = Literal["stretch", "crop", "pad"]
# Bilinear upscaling past 4x adds no detail a model could learn from, only blur: a smaller image is
# refused rather than silently stretched. The bundled digits go 8x8 → 16x16 (2x) on purpose.
MAX_UPSCALE = 4
# ITU-R BT.601 luma, the weights PIL's convert("L") uses.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclass(frozen=True)
class InputShape:
    """What a model takes: height and width (None: the images' own, which must be one size), how other
    sizes get there, and channels (None: as read)."""

    size: tuple[int, int] | None
    resize: ResizePolicy = "stretch"
    channels: int | None = None


def fit_images(images: np.ndarray, shape: InputShape, where: str) -> np.ndarray:
    """A (N, H, W, C) batch (uint8, or float32 in [0, 1]) at `shape`; `where` names the images in errors."""
    return with_channels(_resized(images, shape, where), shape.channels)


def fit_each(images: list[np.ndarray], shape: InputShape, names: list[str]) -> np.ndarray:
    """Images of any sizes (each H, W, C; uint8, or float in [0, 1]) stacked at `shape`, in their order."""
    channels = shape.channels or max(image.shape[-1] for image in images)
    if shape.size is None and len(_by_size(images)) > 1:
        raise BadInput(f"{names[0]}: images of several sizes: expected one size, or a model that states its "
                       "input size")
    fitted: list[np.ndarray | None] = [None] * len(images)
    for size, members in _by_size(images).items():
        batch = np.stack([with_channels(images[i][None], channels)[0] for i in members])
        for index, image in zip(members, fit_images(batch, shape, names[members[0]])):
            fitted[index] = image
    return np.stack(fitted)


def with_channels(images: np.ndarray, channels: int | None) -> np.ndarray:
    have = images.shape[-1]
    if channels is None or have == channels:
        return images
    if have == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    if have == 3 and channels == 1:
        return _like(images, (images @ LUMA)[..., None])
    raise BadInput(f"images have {have} channels: expected 1 or 3 to convert to data.channels {channels}")


def _by_size(images: list[np.ndarray]) -> dict[tuple[int, int], list[int]]:
    groups: dict[tuple[int, int], list[int]] = {}
    for index, image in enumerate(images):
        groups.setdefault(image.shape[:2], []).append(index)
    return groups


def _resized(images: np.ndarray, shape: InputShape, where: str) -> np.ndarray:
    have = tuple(images.shape[1:3])
    if shape.size is None or have == tuple(shape.size):
        return images if images.dtype == np.uint8 else images.astype(np.float32)
    wanted = tuple(shape.size)
    scale = _scale(have, wanted, shape.resize)
    scaled = tuple(max(1, round(side * factor)) for side, factor in zip(have, scale))
    _check_upscale(where, have, scaled)
    import tensorflow as tf

    resized = tf.image.resize(images, scaled, method="bilinear")
    if shape.resize == "crop":
        resized = tf.image.resize_with_crop_or_pad(resized, *wanted)
    elif shape.resize == "pad":
        resized = tf.image.pad_to_bounding_box(resized, (wanted[0] - scaled[0]) // 2, (wanted[1] - scaled[1]) // 2,
                                               *wanted)
    return _like(images, resized.numpy())


def _like(images: np.ndarray, computed: np.ndarray) -> np.ndarray:
    """`computed` (float, from `images`) in the images' kind: whole 8-bit pixel values, or float32."""
    if images.dtype == np.uint8:
        return np.clip(np.rint(computed), 0, 255).astype(np.uint8)
    return computed.astype(np.float32)


def _scale(have: tuple[int, int], wanted: tuple[int, int], policy: ResizePolicy) -> tuple[float, float]:
    per_side = tuple(w / h for h, w in zip(have, wanted))
    if policy == "stretch":
        return per_side
    one = max(per_side) if policy == "crop" else min(per_side)
    return one, one


def _check_upscale(where: str, have: tuple[int, int], scaled: tuple[int, int]) -> None:
    if any(to > MAX_UPSCALE * side for side, to in zip(have, scaled)):
        raise BadInput(f"{where}: images are {have[0]}x{have[1]}, scaled to {scaled[0]}x{scaled[1]} for "
                       f"data.input_size: expected at most {MAX_UPSCALE}x upscaling (larger images, or a smaller "
                       f"input_size)")
