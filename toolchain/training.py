"""What every training stage shares: fitting with progress, NaN detection, evaluation, sparsity."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
import tf_keras as keras

from edgebuild.errors import GateFailed
from edgebuild.events import Events

WEIGHTS_FILE = "weights.h5"


@dataclass(frozen=True)
class StageContext:
    """What a training stage may read: the recipe, the data, the seed, and where to report."""

    recipe: Any
    dataset: Any
    seed: int
    events: Events
    base_dir: Path


@dataclass(frozen=True)
class Upstream:
    """The models earlier stages made: the teacher, and the model the previous stage left."""

    teacher: Any = None
    previous: Any = None
    pruned: bool = False


def fit(model, x, y, training, loss, ctx: StageContext, stage: str, callbacks=()) -> None:
    """Compile and fit; a NaN or inf loss fails the build here, not three stages later."""
    model.compile(optimizer=keras.optimizers.Adam(training.learning_rate), loss=loss)
    progress = _EpochEvents(ctx.events, stage, training.epochs)
    history = model.fit(x, y, epochs=training.epochs, batch_size=training.batch_size, shuffle=True, verbose=0,
                        callbacks=[*callbacks, progress, keras.callbacks.TerminateOnNaN()])
    losses = history.history.get("loss", [])
    # TerminateOnNaN ends fit() normally in tf_keras; the build must not carry on with NaN weights.
    if not losses or not all(math.isfinite(value) for value in losses):
        raise GateFailed(f"stage {stage}: training loss became NaN/inf at epoch {len(losses)}; "
                         f"lower {stage}.training.learning_rate or check the data")


def steps_per_epoch(samples: int, batch_size: int) -> int:
    return math.ceil(samples / batch_size)


def logits(model, x) -> np.ndarray:
    return model.predict(x, batch_size=256, verbose=0)


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(logits(model, x), axis=-1) == y))


def kernel_sparsity(model) -> float:
    """Fraction of zeros across Conv2D and Dense kernels: the weights CONV_2D/FULLY_CONNECTED carry."""
    # QAT wrappers add `kernel_min`/`kernel_max` quantizer variables: match the kernel itself only.
    kernels = [w.numpy() for w in model.weights if w.name.split("/")[-1] == "kernel:0"]
    total = sum(k.size for k in kernels)
    return float(sum(np.count_nonzero(k == 0) for k in kernels) / total) if total else 0.0


def save_weights(model, folder: Path) -> None:
    model.save_weights(str(folder / WEIGHTS_FILE))


def load_weights(model, folder: Path):
    model.load_weights(str(folder / WEIGHTS_FILE))
    return model


def sparse_categorical_loss():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class _EpochEvents(keras.callbacks.Callback):
    """Turns finished epochs into progress events."""

    def __init__(self, events: Events, stage: str, epochs: int):
        super().__init__()
        self._events, self._stage, self._epochs = events, stage, epochs

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        loss = float((logs or {}).get("loss", float("nan")))
        self._events.emit("epoch_finished", stage=self._stage, epoch=epoch + 1, epochs=self._epochs, loss=loss)
