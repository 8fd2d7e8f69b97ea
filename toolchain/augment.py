"""Training batches as a tf.data pipeline over the training split: shuffled, turned into model input
a batch at a time (8-bit pixels never become one float32 copy of the split), and, with the recipe's
`augment` section, changed at random on the fly (Keras' preprocessing layers, seeded), so no
augmented copy is ever stored and the validation and test splits are never touched.

Every pipeline here runs without tf.data's autotuning model. In TF 2.21 a finished iterator's
teardown waits for that model's thread to wake from its sleep, which grows with the iterator's
life: idle gaps of up to 28 s, 0% CPU, between epochs (py-spy: `~RootDataset::Iterator` waiting on
`Model::OptimizeLoop`). The Fashion-MNIST teacher on these batches, 8 epochs, same seed: 232.9 s
with the model, 175.0 s without, the same training top-1 every epoch; Keras' own pipeline for a
chunked predict over 70,000 images: 9.5-10.4 s against 7.7 s, the same outputs (NOTES.md)."""

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
    prepared_batches = batches.map(prepared, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    return _without_autotune_model(prepared_batches)


def inference_batches(inputs: np.ndarray, batch_size: int):
    """Model inputs in order, `batch_size` at a time, for Keras' predict: the batches it would cut
    from the array itself, without the stall its own pipeline has at the end."""
    import tensorflow as tf

    return _without_autotune_model(tf.data.Dataset.from_tensor_slices(inputs).batch(batch_size))


def _without_autotune_model(dataset):
    """The pipeline with tf.data's autotuning model off (the module docstring says why); AUTOTUNE
    parallelism and prefetch fall back to tf.data's defaults, as fast here (measured)."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


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
