"""Training batches as a tf.data pipeline over the training split: shuffled, turned into model input
a batch at a time (8-bit pixels never become one float32 copy of the split), and, with the recipe's
`augment` section, changed at random on the fly (Keras' preprocessing layers, seeded), so no
augmented copy is ever stored and the validation and test splits are never touched."""

from __future__ import annotations

import numpy as np

from edgebuild.config.recipe import AugmentConfig
from edgebuild.toolchain.datasets import PIXEL_MAX

_FLIP_MODES = {"horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


def training_batches(x: np.ndarray, y, batch_size: int, config: AugmentConfig | None, seed: int):
    """Shuffled batches of (model input, y); `y` may be a list (one array per model output)."""
    import tensorflow as tf

    changes = _layers(config, seed) if config is not None else None
    eight_bit = x.dtype == np.uint8

    def prepared(images, labels):
        images = tf.cast(images, tf.float32) / PIXEL_MAX if eight_bit else images
        if changes is None:
            return images, labels
        # tf_keras' RandomContrast does not clip: images stay in the [0, 1] the model is fed.
        return tf.clip_by_value(changes(images, training=True), 0.0, 1.0), labels

    targets = tuple(y) if isinstance(y, list) else y
    batches = (tf.data.Dataset.from_tensor_slices((x, targets))
               .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size))
    return batches.map(prepared, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _layers(config: AugmentConfig, seed: int):
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    layers = keras.layers
    steps = []
    if config.flip != "none":
        steps.append(layers.RandomFlip(_FLIP_MODES[config.flip], seed=seed))
    if config.shift:
        steps.append(layers.RandomTranslation(config.shift, config.shift, fill_mode="constant", seed=seed + 1))
    if config.rotation:
        steps.append(layers.RandomRotation(config.rotation, fill_mode="constant", seed=seed + 2))
    if config.brightness:
        steps.append(layers.RandomBrightness(config.brightness, value_range=(0.0, 1.0), seed=seed + 3))
    if config.contrast:
        steps.append(layers.RandomContrast(config.contrast, seed=seed + 4))
    return keras.Sequential(steps, name="augment")
