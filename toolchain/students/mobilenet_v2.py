"""MobileNetV2: inverted residuals with linear bottlenecks (Sandler et al. 2018)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.models import StrictModel
from edgebuild.config.students import register_student
from edgebuild.toolchain.students.blocks import WidthScaled, head, inverted_residual, scaled, stem


class InvertedResidual(StrictModel):
    channels: PositiveInt
    """Output channels of the block."""
    stride: Literal[1, 2] = 1
    """Stride of the depthwise convolution."""
    expansion: PositiveInt = 6
    """Channel expansion of the inner 1x1 convolution."""


class MobileNetV2(WidthScaled):
    architecture: Literal["mobilenet_v2"]
    """The student to build."""
    blocks: tuple[InvertedResidual, ...] = Field(min_length=1)
    """Inverted residual blocks, in order (mobilenet_v2)."""


@register_student(MobileNetV2)
def mobilenet_v2(config: MobileNetV2, input_shape, num_classes):
    keras, layers, inputs, x = stem(config, input_shape)
    m = config.bn_momentum
    for index, block in enumerate(config.blocks):
        x = inverted_residual(layers, x, f"block{index}", m, channels_out=scaled(block.channels, config.width),
                              expansion=block.expansion, stride=block.stride)
    return head(layers, keras, inputs, x, num_classes, "mobilenet_v2")
