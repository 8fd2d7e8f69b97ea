"""DS-CNN: the MLPerf Tiny keyword-spotting reference (Zhang et al. 2017, "Hello Edge"), on 2-D
feature maps (49x10 MFCCs there; any image here): a strided 10x4 conv, then depthwise-separable
units (3x3 depthwise, 1x1 pointwise, each BN-ReLU), average pooling and one dense layer."""

from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from edgebuild.config.students import StudentConfig, register_student
from edgebuild.toolchain.students.blocks import conv_bn_relu, head


class DsCnn(StudentConfig):
    architecture: Literal["ds_cnn"]
    filters: PositiveInt = 64
    separable_blocks: PositiveInt = 4
    first_kernel: tuple[PositiveInt, PositiveInt] = (10, 4)
    first_stride: tuple[PositiveInt, PositiveInt] = (2, 2)


@register_student(DsCnn)
def ds_cnn(config: DsCnn, input_shape, num_classes):
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    layers, m = keras.layers, config.bn_momentum
    inputs = layers.Input(input_shape, name="input")
    x = conv_bn_relu(layers, inputs, "first", m, filters=config.filters, kernel=config.first_kernel,
                     stride=config.first_stride)
    for index in range(config.separable_blocks):
        x = conv_bn_relu(layers, x, f"ds{index}", m, kernel=3, depthwise=True)
        x = conv_bn_relu(layers, x, f"ds{index}_pw", m, filters=config.filters)
    return head(layers, keras, inputs, x, num_classes, "ds_cnn")
