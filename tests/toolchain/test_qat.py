"""QAT: the int8 artifact stays close to the float student, and a structure-preserving scheme's
model is handed on as an inference-identical default-scheme model that the cache can restore."""

from __future__ import annotations

import json

import numpy as np
import pytest


def test_int8_artifact_is_within_1_5_points_of_the_float_student(tiny_build):
    report = json.loads((tiny_build / "out" / "tiny" / "android-flagship" / "report.json").read_text())
    accuracy = report["accuracy"]
    assert abs(accuracy["float_student"] - accuracy["artifact"]) <= 0.015


@pytest.mark.parametrize("pruned, clustered", [(True, False), (True, True)])
def test_preserving_scheme_copy_gives_the_same_outputs(pruned, clustered):
    from edgebuild.base import tfenv
    from edgebuild.config.students import student_config
    from edgebuild.toolchain.data import load_dataset
    from edgebuild.toolchain.qat import quantization_aware, with_default_quantizers
    from edgebuild.toolchain.students import build_student
    from edgebuild.toolchain.training import sparse_categorical_loss

    tfenv.tensorflow(0)
    data = load_dataset("sklearn:digits", (8, 8), validation_fraction=0.1, test_fraction=0.2, seed=0)
    config = student_config({"architecture": "mobilenet_v1", "stem_channels": 8, "blocks": [{"channels": 16, "stride": 2}]})
    student = build_student(config, data.input_shape, data.num_classes)
    for kernel in (w for w in student.weights if w.name.endswith("/kernel:0")):
        values = kernel.numpy()
        if clustered:
            values = np.round(values * 4) / 4  # a handful of distinct values
        if pruned:
            values[np.abs(values) < np.median(np.abs(values))] = 0.0
        kernel.assign(values)
    model = quantization_aware(student, pruned=pruned, clustered=clustered)
    model.compile(optimizer="adam", loss=sparse_categorical_loss())
    model.fit(data.x_train[:256], data.y_train[:256], epochs=1, batch_size=64, verbose=0)
    copy = with_default_quantizers(model, quantization_aware(build_student(config, data.input_shape,
                                                                           data.num_classes)))
    x = data.x_test
    np.testing.assert_allclose(copy(x, training=False), model(x, training=False), atol=1e-5)
