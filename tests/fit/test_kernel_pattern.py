"""The predicted artifact's weights carry the recipe's pruning and clustering, which is what gzip sees."""

from __future__ import annotations

import numpy as np

from edgebuild.converters.flatbuffer import read_model
from edgebuild.config.students import student_config
from edgebuild.converters.fit_predict import KernelPattern, converted_candidates


def test_pruned_and_clustered_kernels_reach_the_artifact():
    student = student_config({"architecture": "mobilenet_v1", "stem_channels": 8,
                              "blocks": [{"channels": 16, "stride": 2}, {"channels": 32}]})
    (model_bytes,) = converted_candidates([student], (8, 8, 1), 10, precision="int8", io_dtype="int8",
                                          pattern=KernelPattern(zero_fraction=0.5, clusters=4), from_qat=False,
                                          seed=0)
    weights = read_model(model_bytes).weights()
    assert [op.name for op, _ in weights].count("CONV_2D") == 3  # stem and two pointwise convolutions
    for op, kernel in weights:
        assert np.mean(kernel == 0) >= 0.49, op.name
        for channel in kernel.reshape(kernel.shape[0], -1):  # int8 scales are per output channel
            assert len(np.unique(channel)) <= 4, op.name
