"""Quantization-aware training stage (TF-MOT).

After pruning it uses the sparsity-preserving scheme: plain QAT lets pruned zeros drift back to
non-zero values, and the artifact loses its sparsity (TF-MOT collaborative optimization guide).
"""

from __future__ import annotations

from pathlib import Path

from edgebuild.toolchain.distill import new_student
from edgebuild.toolchain.training import (StageContext, Upstream, fit, load_weights,
                                          sparse_categorical_loss)


def train(ctx: StageContext, upstream: Upstream):
    config = ctx.recipe.qat
    model = quantization_aware(upstream.previous, upstream.pruned)
    fit(model, ctx.dataset.x_train, ctx.dataset.y_train, config.training, sparse_categorical_loss(), ctx, "qat")
    return model


def restore(ctx: StageContext, folder: Path, upstream: Upstream):
    return load_weights(quantization_aware(new_student(ctx), upstream.pruned), folder)


def quantization_aware(model, pruned: bool):
    import tensorflow_model_optimization as tfmot

    quantize = tfmot.quantization.keras
    scheme = (tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme() if pruned
              else quantize.default_8bit.Default8BitQuantizeScheme())
    return quantize.quantize_apply(quantize.quantize_annotate_model(model), scheme)
