"""The soft-target stage: the teacher's logits on the training split (and, for feature distillation,
its last convolution's feature maps), computed once and cached.

The teacher only infers here, so distilling again (another temperature, another student, another
profile's choice of student) reads these arrays instead of loading and running the teacher.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgebuild.base.errors import BadInput
from edgebuild.base.stage import Stage, Upstream
from edgebuild.toolchain.context import BuildContext, training_versions

ARRAYS_FILE = "soft_targets.npz"


@dataclass(frozen=True)
class SoftTargets:
    logits: np.ndarray  # (training images, classes)
    features: np.ndarray | None  # (training images, h, w, channels) of the teacher's last Conv2D


@dataclass(frozen=True)
class SoftTargetsStage(Stage[SoftTargets]):
    ctx: BuildContext
    with_features: bool
    name = "soft_targets"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        return {"upstream": {name: upstream.key(name) for name in ("data", "teacher")},
                "with_features": self.with_features, "versions": training_versions(self.ctx.versions)}

    def run(self, upstream: Upstream, scratch: Path) -> SoftTargets:
        from edgebuild.toolchain.training import keras, logits

        teacher = upstream.output("teacher").load()
        x_train = upstream.output("data").x_train
        features = None
        if self.with_features:
            _check_keras_teacher(teacher)
            extractor = keras.Model(teacher.inputs, last_conv_layer(teacher).output)
            features = logits(extractor, x_train).astype(np.float32)  # the predict logits() makes, on a feature map
        targets = SoftTargets(as_logits(logits(teacher, x_train)), features)
        arrays = {"logits": targets.logits, **({"features": features} if features is not None else {})}
        np.savez(scratch / ARRAYS_FILE, **arrays)
        return targets

    def load(self, upstream: Upstream, entry: Path) -> SoftTargets:
        with np.load(entry / ARRAYS_FILE, allow_pickle=False) as arrays:
            return SoftTargets(arrays["logits"], arrays["features"] if "features" in arrays.files else None)


def as_logits(scores: np.ndarray) -> np.ndarray:
    """Logits for the distillation loss: a teacher whose output is already a softmax (common in a
    converted .tflite) gives probabilities, whose logarithms are its logits up to a constant."""
    scores = scores.astype(np.float32)
    probabilities = scores.min() >= 0.0 and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3)
    return np.log(np.maximum(scores, 1e-7)) if probabilities else scores


def _check_keras_teacher(teacher) -> None:
    from edgebuild.toolchain.training import keras

    if not isinstance(teacher, keras.Model):
        raise BadInput("distill.kind: feature needs a tf_keras teacher, whose layers the student can match; "
                       f"teacher {getattr(teacher, 'name', '')!r} is a Keras 3 or .tflite model: use distill.kind: "
                       "response")


def last_conv_layer(teacher):
    from edgebuild.toolchain.training import keras

    convs = [layer for layer in teacher.layers if isinstance(layer, keras.layers.Conv2D)]
    if not convs:
        raise BadInput(f"distill.kind: feature: teacher {teacher.name!r} has no Conv2D layer whose feature map the "
                       "student could match; use distill.kind: response")
    return convs[-1]
