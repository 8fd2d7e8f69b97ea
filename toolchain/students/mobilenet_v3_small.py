"""MobileNetV3-Small: inverted residuals with squeeze-and-excite and hard-swish (Howard et al. 2019),
built from layers TF-MOT prunes and quantizes (students/quantizable_layers.py), so it QAT-trains,
PQAT-trains and converts to full-integer int8 where Keras' own MobileNetV3Small cannot."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.models import StrictModel
from edgebuild.config.students import register_student
from edgebuild.toolchain.students.blocks import WidthScaled, head, inverted_residual, scaled, stem
from edgebuild.toolchain.students.quantizable_layers import custom_layers


class BottleneckV3(StrictModel):
    channels: PositiveInt
    stride: Literal[1, 2] = 1
    expansion: PositiveInt = 4
    kernel: Literal[3, 5] = 3
    squeeze_excite: bool = True
    activation: Literal["relu", "hard_swish"] = "hard_swish"


class MobileNetV3Small(WidthScaled):
    architecture: Literal["mobilenet_v3_small"]
    blocks: tuple[BottleneckV3, ...] = Field(min_length=1)
    se_ratio: float = Field(default=0.25, gt=0.0, le=1.0)


@register_student(MobileNetV3Small)
def mobilenet_v3_small(config: MobileNetV3Small, input_shape, num_classes):
    keras, layers, inputs, x = stem(config, input_shape, activation=_hard_swish)
    for index, block in enumerate(config.blocks):
        activation = _hard_swish if block.activation == "hard_swish" else None
        excite = _squeeze_excite(config.se_ratio) if block.squeeze_excite else None
        x = inverted_residual(layers, x, f"block{index}", config.bn_momentum,
                              channels_out=scaled(block.channels, config.width), expansion=block.expansion,
                              stride=block.stride, kernel=block.kernel, activation=activation, excite=excite)
    return head(layers, keras, inputs, x, num_classes, "mobilenet_v3_small")


def _hard_swish(layers, x, name: str):
    return custom_layers()["HardSwish"](name=f"{name}_hswish")(x)


def _squeeze_excite(ratio: float):
    def excite(layers, x, name: str):
        channels = x.shape[-1]
        s = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_se_pool")(x)
        s = layers.Conv2D(max(4, int(channels * ratio)), 1, activation="relu", name=f"{name}_se_reduce")(s)
        s = layers.Conv2D(channels, 1, name=f"{name}_se_expand")(s)
        s = custom_layers()["HardSigmoid"](name=f"{name}_se_gate")(s)
        return layers.Multiply(name=f"{name}_se_scale")([x, s])

    return excite
