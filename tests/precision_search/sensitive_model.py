"""A digits classifier built to lose its accuracy at int8: an 11th logit pinned at -100,000.

The float model never predicts class 10, so its top-1 is the trained one; but int8 quantizes the
logits per tensor over [-100000, ~20], a step of ~400, and the ten real logits collapse onto one or two
levels. Keeping the logits op float, or 16-bit activations, recovers it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUTLIER = -1.0e5


def save_sensitive_model(digits, folder: Path) -> Path:
    from edgebuild.base import tfenv  # noqa: F401  (Keras 2 before tf_keras)
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    trained = keras.Sequential([keras.layers.Input((8, 8, 1), name="image"), keras.layers.Flatten(name="flat"),
                                keras.layers.Dense(32, activation="relu", name="hidden"),
                                keras.layers.Dense(10, name="logits10")])
    trained.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    trained.fit(digits.x_train, digits.y_train, epochs=15, batch_size=64, verbose=0)
    model = keras.Sequential([keras.layers.Input((8, 8, 1), name="image"), keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(32, activation="relu", name="hidden"),
                              keras.layers.Dense(11, name="logits")])
    model.get_layer("hidden").set_weights(trained.get_layer("hidden").get_weights())
    kernel, bias = trained.get_layer("logits10").get_weights()
    model.get_layer("logits").set_weights([np.concatenate([kernel, np.zeros((32, 1), np.float32)], axis=1),
                                           np.append(bias, OUTLIER).astype(np.float32)])
    path = folder / "sensitive.keras"
    model.save(path)
    return path
