"""Pruning stage: TF-MOT magnitude pruning with a schedule derived from the real step count.

TF-MOT prunes only every `frequency` steps (default 100): a 90-step fine-tune with the default
prunes nothing, silently (shared/NOTES.md). The schedule here ends at two thirds of the fine-tune,
on a pruning step, so the target is reached and the last third recovers accuracy.
"""

from __future__ import annotations

from pathlib import Path

from edgebuild.errors import GateFailed
from edgebuild.toolchain.distill import new_student
from edgebuild.toolchain.training import (StageContext, Upstream, fit, kernel_sparsity, load_weights,
                                          sparse_categorical_loss, steps_per_epoch)

PRUNING_UPDATES = 10
MIN_STEPS_FOR_SCHEDULE = 3


def train(ctx: StageContext, upstream: Upstream):
    import tensorflow_model_optimization as tfmot

    config = ctx.recipe.prune
    data = ctx.dataset
    total_steps = steps_per_epoch(len(data.x_train), config.training.batch_size) * config.training.epochs
    schedule = pruning_schedule(config.target_sparsity, total_steps)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(upstream.previous, pruning_schedule=schedule)
    fit(pruned, data.x_train, data.y_train, config.training, sparse_categorical_loss(), ctx, "prune",
        callbacks=[tfmot.sparsity.keras.UpdatePruningStep()])
    stripped = tfmot.sparsity.keras.strip_pruning(pruned)
    _check_target_reached(stripped, config.target_sparsity)
    return stripped


def restore(ctx: StageContext, folder: Path, upstream: Upstream):
    return load_weights(new_student(ctx), folder)


def pruning_schedule(target_sparsity: float, total_steps: int):
    import tensorflow_model_optimization as tfmot

    if total_steps < MIN_STEPS_FOR_SCHEDULE:
        return tfmot.sparsity.keras.ConstantSparsity(target_sparsity, begin_step=0, frequency=1)
    ramp_steps = max(1, (2 * total_steps) // 3)
    frequency = max(1, ramp_steps // PRUNING_UPDATES)
    end_step = frequency * (ramp_steps // frequency)
    return tfmot.sparsity.keras.PolynomialDecay(0.0, target_sparsity, begin_step=0, end_step=end_step,
                                                frequency=frequency)


def _check_target_reached(model, target_sparsity: float) -> None:
    # Kernels too small to split exactly can land a little under the target; 1 point is allowed.
    measured = kernel_sparsity(model)
    if measured < target_sparsity - 0.01:
        raise GateFailed(f"stage prune: kernels are {measured:.1%} zeros, target was {target_sparsity:.0%}: "
                         "the pruning schedule did not fire; raise prune.training.epochs")
