"""A digits classifier built to lose its accuracy at int8: one hidden unit pinned at 4,000.

The pinned unit feeds nothing (its logits weights are zero), so the float model scores what it was
trained to; but int8 quantizes the hidden activations per tensor over [0, 4000], a step of ~16, and
the real units (0 to ~10) collapse onto a few levels. int16 activations (a step of ~0.12) keep them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUTLIER = 4000.0
HIDDEN = 32


def save_sensitive_model(digits, folder: Path) -> Path:
    from edgebuild.base import tfenv  # noqa: F401  (Keras 2 before tf_keras)
    import tf_keras as keras

    keras.utils.set_random_seed(0)
    trained = _classifier(keras, HIDDEN)
    trained.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    trained.fit(digits.x_train, digits.y_train, epochs=15, batch_size=64, verbose=0)
    model = _classifier(keras, HIDDEN + 1)
    kernel, bias = trained.get_layer("hidden").get_weights()
    model.get_layer("hidden").set_weights([np.concatenate([kernel, np.zeros((kernel.shape[0], 1), np.float32)], 1),
                                           np.append(bias, OUTLIER).astype(np.float32)])
    kernel, bias = trained.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([np.concatenate([kernel, np.zeros((1, 10), np.float32)]), bias])
    path = folder / "sensitive.keras"
    model.save(path)
    return path


def _classifier(keras, hidden: int):
    return keras.Sequential([keras.layers.Input((8, 8, 1), name="image"), keras.layers.Flatten(name="flat"),
                             keras.layers.Dense(hidden, activation="relu", name="hidden"),
                             keras.layers.Dense(10, name="logits")])
