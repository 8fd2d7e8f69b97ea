"""MobileNetV2: inverted residuals with linear bottlenecks (Sandler et al. 2018)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.models import StrictModel
from edgebuild.config.students import register_student
from edgebuild.toolchain.students.blocks import WidthScaled, conv_bn_relu, head, scaled, stem


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
        name = f"block{index}"
        channels_in = x.shape[-1]
        channels_out = scaled(block.channels, config.width)
        h = conv_bn_relu(layers, x, f"{name}_expand", m, filters=channels_in * block.expansion)
        h = conv_bn_relu(layers, h, name, m, kernel=3, stride=block.stride, depthwise=True)
        h = layers.Conv2D(channels_out, 1, use_bias=False, name=f"{name}_project_conv")(h)
        h = layers.BatchNormalization(momentum=m, name=f"{name}_project_bn")(h)
        x = layers.Add(name=f"{name}_add")([x, h]) if block.stride == 1 and channels_in == channels_out else h
    return head(layers, keras, inputs, x, num_classes, "mobilenet_v2")
