"""MobileNetV1: depthwise-separable blocks (Howard et al. 2017)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.models import StrictModel
from edgebuild.config.students import register_student
from edgebuild.toolchain.students.blocks import WidthScaled, conv_bn_relu, head, scaled, stem


class SeparableBlock(StrictModel):
    channels: PositiveInt
    """Output channels of the block."""
    stride: Literal[1, 2] = 1
    """Stride of the depthwise convolution."""


class MobileNetV1(WidthScaled):
    architecture: Literal["mobilenet_v1"]
    """The student to build."""
    blocks: tuple[SeparableBlock, ...] = Field(min_length=1)
    """Depthwise-separable blocks, in order (mobilenet_v1)."""


@register_student(MobileNetV1)
def mobilenet_v1(config: MobileNetV1, input_shape, num_classes):
    keras, layers, inputs, x = stem(config, input_shape)
    m = config.bn_momentum
    for index, block in enumerate(config.blocks):
        name = f"block{index}"
        x = conv_bn_relu(layers, x, name, m, kernel=3, stride=block.stride, depthwise=True)
        x = conv_bn_relu(layers, x, f"{name}_pw", m, filters=scaled(block.channels, config.width))
    return head(layers, keras, inputs, x, num_classes, "mobilenet_v1")
