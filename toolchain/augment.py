"""Declarative augmentation: the recipe's `augment` section as a tf.data pipeline over the training
split, each batch changed at random on the fly (Keras' preprocessing layers, seeded), so no
augmented copy is ever stored and the validation and test splits are never touched."""

from __future__ import annotations

import numpy as np

from edgebuild.config.recipe import AugmentConfig

_FLIP_MODES = {"horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}


def augmented_batches(x: np.ndarray, y, batch_size: int, config: AugmentConfig, seed: int):
    """Shuffled batches of (augmented x, y); `y` may be a list (one array per model output)."""
    import tensorflow as tf

    changes = _layers(config, seed)
    targets = tuple(y) if isinstance(y, list) else y
    batches = (tf.data.Dataset.from_tensor_slices((x, targets))
               .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size))
    # tf_keras' RandomContrast does not clip: images stay in the [0, 1] the model is fed.
    return batches.map(lambda images, labels: (tf.clip_by_value(changes(images, training=True), 0.0, 1.0), labels),
                       num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


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
