"""EfficientNet-Lite: EfficientNet's MBConv blocks made int8-friendly (Tan & Le 2019; TensorFlow's
EfficientNet-Lite release): no squeeze-and-excite, ReLU6 instead of swish, a plain stem and head.
Every layer is one TF-MOT quantizes and prunes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.models import StrictModel
from edgebuild.config.students import register_student
from edgebuild.toolchain.students.blocks import WidthScaled, conv_bn_relu, head, inverted_residual, scaled, stem


class MbConv(StrictModel):
    channels: PositiveInt
    stride: Literal[1, 2] = 1
    expansion: PositiveInt = 6  # the first stage of EfficientNet uses 1
    kernel: Literal[3, 5] = 3
    repeats: PositiveInt = 1  # the stage's later blocks have stride 1


class EfficientNetLite(WidthScaled):
    architecture: Literal["efficientnet_lite"]
    stem_stride: Literal[1, 2] = 1  # 2 on ImageNet's 224x224; 1 keeps small inputs' resolution
    blocks: tuple[MbConv, ...] = Field(min_length=1)
    head_channels: PositiveInt | None = None  # the 1x1 conv before pooling (1280 on ImageNet); None: none


@register_student(EfficientNetLite)
def efficientnet_lite(config: EfficientNetLite, input_shape, num_classes):
    keras, layers, inputs, x = stem(config, input_shape, stride=config.stem_stride)
    m = config.bn_momentum
    for index, block in enumerate(config.blocks):
        for repeat in range(block.repeats):
            x = inverted_residual(layers, x, f"block{index}_{repeat}", m,
                                  channels_out=scaled(block.channels, config.width), expansion=block.expansion,
                                  stride=block.stride if repeat == 0 else 1, kernel=block.kernel)
    if config.head_channels is not None:
        x = conv_bn_relu(layers, x, "top", m, filters=scaled(config.head_channels, config.width))
    return head(layers, keras, inputs, x, num_classes, "efficientnet_lite")
