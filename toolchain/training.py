"""What every training stage shares: fitting with progress, NaN detection, evaluation, sparsity."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from edgebuild.base import tfenv  # selects Keras 2 before tf_keras loads
import tf_keras as keras

from edgebuild.base.errors import GateFailed
from edgebuild.base.events import Events
from edgebuild.toolchain.context import TrainingJob
from edgebuild.toolchain.datasets import Dataset, in_chunks

WEIGHTS_FILE = "weights.h5"
PREDICT_BATCH = 256  # datasets.CHUNK_ROWS is a multiple of it


def reseed(job: TrainingJob) -> None:
    """Start a stage from the recipe's seed. Otherwise its weights and batch order depend on how much
    randomness the stages before it drew in this process, so the same cache key would hold different
    models after a cold build and after one whose earlier stages came from the cache."""
    tfenv.tensorflow(job.seed)


def fit(model, x, y, training, loss, job: TrainingJob, stage: str, callbacks=(), metrics=None) -> None:
    """Compile and fit; a NaN or inf loss fails the build here, not three stages later.

    `y` and `loss` may be lists for a model with several outputs. The learning rate decays along a
    cosine to zero over the run: at a constant rate the last epochs wander, and the digits teacher
    ended at 96.4% where the decayed one reaches 97.8% (same 15 epochs, seed 0, measured).
    `metrics` default to top-1 on integer labels, for the progress events; metrics change no weight."""
    batches = steps_per_epoch(len(x), training.batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(training.learning_rate, batches * training.epochs)
    if metrics is None:
        metrics = ["accuracy"] if getattr(y, "ndim", 0) == 1 else None
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=loss, metrics=metrics)
    progress = _ProgressEvents(job.events, stage, training.epochs, batches)
    guard = _StopOnNonFiniteLoss()
    augment = job.recipe.augment if job.recipe is not None else None
    if augment is None and x.dtype != np.uint8:
        model.fit(x, y, epochs=training.epochs, batch_size=training.batch_size, shuffle=True, verbose=0,
                  callbacks=[*callbacks, progress, guard])
    else:
        from edgebuild.toolchain.augment import training_batches

        model.fit(training_batches(x, y, training.batch_size, augment, job.seed), epochs=training.epochs,
                  verbose=0, callbacks=[*callbacks, progress, guard])
    if guard.stopped_at is not None:
        epoch, batch = guard.stopped_at
        raise GateFailed(f"stage {stage}: training loss became NaN/inf at epoch {epoch}, batch {batch}; "
                         f"lower {stage}.training.learning_rate or check the data")


def steps_per_epoch(samples: int, batch_size: int) -> int:
    return math.ceil(samples / batch_size)


def logits(model, x) -> np.ndarray:
    """The model's outputs on `x`, CHUNK_ROWS images at a time for 8-bit pixels."""
    return in_chunks(lambda chunk: _predict(model, chunk), x)


def _predict(model, inputs: np.ndarray) -> np.ndarray:
    """A tf_keras model predicts from `augment.inference_batches`; a foreign teacher (Keras 3, .tflite:
    toolchain/foreign_models.py) answers `predict` on arrays only."""
    if not isinstance(model, keras.Model):
        return model.predict(inputs, batch_size=PREDICT_BATCH, verbose=0)
    from edgebuild.toolchain.augment import inference_batches

    return model.predict(inference_batches(inputs, PREDICT_BATCH), verbose=0)


def accuracy(model, x, y) -> float:
    return float(np.mean(np.argmax(logits(model, x), axis=-1) == y))


def kernel_sparsity(model) -> float:
    """Fraction of zeros across Conv2D and Dense kernels: the weights CONV_2D/FULLY_CONNECTED carry."""
    # QAT wrappers add `kernel_min`/`kernel_max` quantizer variables: match the kernel itself only.
    kernels = [w.numpy() for w in model.weights if w.name.split("/")[-1] == "kernel:0"]
    total = sum(k.size for k in kernels)
    return float(sum(np.count_nonzero(k == 0) for k in kernels) / total) if total else 0.0


def evaluate(model, dataset: Dataset, train_seconds: float) -> dict:
    """What the report's stage table shows: top-1 on each split, parameters, zeros, bytes."""
    size_bytes, gzip_bytes = weights_bytes(model)  # its Keras variables, not a .tflite
    return {
        "accuracy": accuracy(model, dataset.x_test, dataset.y_test),
        "accuracy_all_data": accuracy(model, dataset.x_all, dataset.y_all),
        "accuracy_validation": accuracy(model, dataset.x_val, dataset.y_val) if len(dataset.y_val) else None,
        "parameters": int(model.count_params()),
        "sparsity": kernel_sparsity(model),
        "size_bytes": size_bytes,
        "gzip_bytes": gzip_bytes,
        "train_seconds": round(train_seconds, 3),
    }


def weights_bytes(model) -> tuple[int, int]:
    """Bytes of the model's variables as stored (float32 for a float model) and gzipped: its size before
    conversion, and what pruning's zeros and clustering's repeated values save once compressed."""
    import gzip

    raw = b"".join(w.numpy().tobytes() for w in model.weights)
    return len(raw), len(gzip.compress(raw, 9, mtime=0))


def save_weights(model, folder: Path) -> None:
    model.save_weights(str(folder / WEIGHTS_FILE))


def load_weights(model, folder: Path):
    model.load_weights(str(folder / WEIGHTS_FILE))
    return model


def sparse_categorical_loss():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class _StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Keras' TerminateOnNaN, without its print, remembering where: the caller fails the build
    (TerminateOnNaN only ends fit() early, and normally)."""

    def __init__(self):
        super().__init__()
        self.stopped_at: tuple[int, int] | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.stopped_at = (self._epoch, batch + 1)
            self.model.stop_training = True


class _ProgressEvents(keras.callbacks.Callback):
    """Turns training into progress events: every finished epoch (loss, training top-1), and the batch
    reached at most every BATCH_EVENT_SECONDS, so a watcher sees an epoch of minutes move."""

    BATCH_EVENT_SECONDS = 0.5

    def __init__(self, events: Events, stage: str, epochs: int, batches: int):
        super().__init__()
        self._events, self._stage, self._epochs, self._batches = events, stage, epochs, batches
        self._epoch, self._last_event = 0, time.monotonic()

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if time.monotonic() - self._last_event >= self.BATCH_EVENT_SECONDS:
            self._emit("batch_finished", batch=batch + 1, **_figures(logs))

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        self._emit("epoch_finished", batch=self._batches, **_figures(logs))

    def _emit(self, kind: str, **fields) -> None:
        self._last_event = time.monotonic()
        self._events.emit(kind, stage=self._stage, epoch=self._epoch + 1, epochs=self._epochs,
                          batches=self._batches, **fields)


def _figures(logs) -> dict:
    """Loss and training top-1 from Keras' logs (an output's top-1 is `<output>_accuracy`)."""
    logs = logs or {}
    accuracy = next((value for name, value in logs.items() if name.endswith("accuracy")), None)
    return {"loss": float(logs.get("loss", float("nan"))),
            "accuracy": None if accuracy is None else float(accuracy)}
