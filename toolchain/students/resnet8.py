"""ResNet-8: the MLPerf Tiny image-classification reference (CIFAR-10, 32x32; Banbury et al. 2021):
a 3x3 stem and three residual stacks of two 3x3 conv-BN(-ReLU) each, the last two halving the
resolution, with a 1x1 conv on the shortcut where the shape changes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from edgebuild.config.students import StudentConfig, register_student
from edgebuild.toolchain.students.blocks import head


class ResNet8(StudentConfig):
    architecture: Literal["resnet8"]
    filters: tuple[PositiveInt, ...] = Field(default=(16, 32, 64), min_length=1)  # the stem and each stack


@register_student(ResNet8)
def resnet8(config: ResNet8, input_shape, num_classes):
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    layers, m = keras.layers, config.bn_momentum
    inputs = layers.Input(input_shape, name="input")
    x = _conv_bn(layers, inputs, "stem", m, config.filters[0], 3, 1)
    x = layers.ReLU(name="stem_relu")(x)
    for index, filters in enumerate(config.filters):
        x = _residual(layers, x, f"stack{index}", m, filters, stride=1 if index == 0 else 2)
    return head(layers, keras, inputs, x, num_classes, "resnet8")


def _residual(layers, x, name: str, momentum: float, filters: int, stride: int):
    h = layers.ReLU(name=f"{name}_relu1")(_conv_bn(layers, x, f"{name}_a", momentum, filters, 3, stride))
    h = _conv_bn(layers, h, f"{name}_b", momentum, filters, 3, 1)
    if stride != 1 or x.shape[-1] != filters:
        x = layers.Conv2D(filters, 1, strides=stride, padding="same", name=f"{name}_shortcut")(x)
    return layers.ReLU(name=f"{name}_relu2")(layers.Add(name=f"{name}_add")([x, h]))


def _conv_bn(layers, x, name: str, momentum: float, filters: int, kernel: int, stride: int):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    return layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
