"""Pruning stage: TF-MOT magnitude pruning with a schedule derived from the real step count, or
structured m-by-n sparsity (2:4 for accelerators that skip the zeros).

TF-MOT prunes only every `frequency` steps (default 100): a 90-step fine-tune with the default
prunes nothing, silently (measured: 0% zeros). The schedule here ends at two thirds of the fine-tune,
on a pruning step, so the target is reached and the last third recovers accuracy.

m-by-n (`sparsity_m_by_n`, TF-MOT 0.8.1) zeroes the m smallest of every n consecutive weights along
the input channels, the last axis of TFLite's CONV_2D [out, h, w, in] and FULLY_CONNECTED [out, in]
weights. TF-MOT sets that mask once, at the first step, and ignores the schedule. It applies to the
layers TF-MOT prunes at all: Conv2D and Dense kernels (and SeparableConv's pointwise kernel), never
DepthwiseConv2D; and it reshapes kernels of rank 2 and 4 only. A kernel whose input channels are not
a multiple of n gets a zero-padded last group, so a 1-channel stem conv keeps its weights.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebuild.base.errors import GateFailed
from edgebuild.toolchain.distill import new_student
from edgebuild.toolchain.context import TrainingJob
from edgebuild.toolchain.training import (fit, kernel_sparsity, load_weights, reseed, sparse_categorical_loss,
                                          steps_per_epoch)

PRUNING_UPDATES = 10
MIN_STEPS_FOR_SCHEDULE = 3


def train(job: TrainingJob):
    import tensorflow_model_optimization as tfmot

    reseed(job)
    config = job.recipe.prune
    data = job.dataset
    sparsity = tfmot.sparsity.keras
    if config.m_by_n is not None:
        pruned = sparsity.prune_low_magnitude(job.previous_model(), sparsity_m_by_n=config.m_by_n)
    else:
        total_steps = steps_per_epoch(len(data.x_train), config.training.batch_size) * config.training.epochs
        schedule = pruning_schedule(config.target_sparsity, total_steps)
        pruned = sparsity.prune_low_magnitude(job.previous_model(), pruning_schedule=schedule)
    fit(pruned, data.x_train, data.y_train, config.training, sparse_categorical_loss(), job, "prune",
        callbacks=[sparsity.UpdatePruningStep()])
    stripped = sparsity.strip_pruning(pruned)
    _check_pruned(stripped, config)
    return stripped


def restore(job: TrainingJob, folder: Path):
    return load_weights(new_student(job), folder)


def pruning_schedule(target_sparsity: float, total_steps: int):
    import tensorflow_model_optimization as tfmot

    if total_steps < MIN_STEPS_FOR_SCHEDULE:
        return tfmot.sparsity.keras.ConstantSparsity(target_sparsity, begin_step=0, frequency=1)
    ramp_steps = max(1, (2 * total_steps) // 3)
    frequency = max(1, ramp_steps // PRUNING_UPDATES)
    end_step = frequency * (ramp_steps // frequency)
    return tfmot.sparsity.keras.PolynomialDecay(0.0, target_sparsity, begin_step=0, end_step=end_step,
                                                frequency=frequency)


def m_by_n_groups(kernel: np.ndarray, n: int) -> np.ndarray:
    """A Keras Conv2D [h, w, in, out] or Dense [in, out] kernel as rows of n consecutive input-channel
    weights, laid out as TFLite stores them; the last group of a row is zero-padded as TF-MOT pads it."""
    tflite_layout = np.moveaxis(kernel, -1, 0)  # [out, h, w, in] or [out, in]
    rows = tflite_layout.reshape(-1, tflite_layout.shape[-1])
    padded = np.pad(rows, [(0, 0), (0, -rows.shape[1] % n)])
    return padded.reshape(-1, n)


def _check_pruned(model, config) -> None:
    if config.m_by_n is not None:
        _check_m_by_n(model, *config.m_by_n)
        return
    # Kernels too small to split exactly can land a little under the target; 1 point is allowed.
    measured = kernel_sparsity(model)
    if measured < config.target_sparsity - 0.01:
        raise GateFailed(f"stage prune: kernels are {measured:.1%} zeros, target was {config.target_sparsity:.0%}: "
                         "the pruning schedule did not fire; raise prune.training.epochs")


def _check_m_by_n(model, m: int, n: int) -> None:
    kernels = [w for w in model.weights if w.name.split("/")[-1] == "kernel:0"]
    for kernel in kernels:
        groups = m_by_n_groups(kernel.numpy(), n)
        short = int(np.count_nonzero(np.count_nonzero(groups == 0, axis=1) < m))
        if short:
            raise GateFailed(f"stage prune: {kernel.name}: {short} of {len(groups)} groups of {n} input-channel "
                             f"weights have fewer than {m} zeros; TF-MOT did not apply prune.m_by_n to this layer")
