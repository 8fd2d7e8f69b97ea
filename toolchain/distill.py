"""Student stage: build the recipe's student and distill the teacher into it (Hinton et al. 2015).

Response-based: softened logits at temperature T, the soft loss scaled by T² so its gradients keep
their size as T grows, weight alpha on the hard labels. `kind: none` trains the same student from
scratch, the baseline distillation has to beat.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgebuild.toolchain.students import build_student
from edgebuild.toolchain.training import (StageContext, Upstream, fit, load_weights, logits,
                                          sparse_categorical_loss)


def train(ctx: StageContext, upstream: Upstream):
    config = ctx.recipe.distill
    data = ctx.dataset
    student = new_student(ctx)
    if config.kind == "none":
        fit(student, data.x_train, data.y_train, config.training, sparse_categorical_loss(), ctx, "distill")
        return student
    teacher_logits = logits(upstream.teacher, data.x_train)
    one_hot = np.eye(data.num_classes, dtype=np.float32)[data.y_train]
    packed_targets = np.concatenate([one_hot, teacher_logits.astype(np.float32)], axis=1)
    loss = response_loss(data.num_classes, config.temperature, config.alpha)
    fit(student, data.x_train, packed_targets, config.training, loss, ctx, "distill")
    return student


def restore(ctx: StageContext, folder: Path, upstream: Upstream):
    return load_weights(new_student(ctx), folder)


def new_student(ctx: StageContext):
    return build_student(ctx.recipe.student, ctx.dataset.input_shape, ctx.dataset.num_classes)


def response_loss(num_classes: int, temperature: float, alpha: float):
    """Loss on targets packed as [one-hot labels | teacher logits], so plain fit() can train it."""
    import tensorflow as tf

    def loss(packed, student_logits):
        labels, teacher_logits = packed[:, :num_classes], packed[:, num_classes:]
        hard = tf.nn.softmax_cross_entropy_with_logits(labels, student_logits)
        soft_targets = tf.nn.softmax(teacher_logits / temperature)
        soft = tf.nn.softmax_cross_entropy_with_logits(soft_targets, student_logits / temperature)
        soft -= tf.nn.softmax_cross_entropy_with_logits(soft_targets, teacher_logits / temperature)
        return alpha * hard + (1.0 - alpha) * temperature**2 * soft

    return loss
