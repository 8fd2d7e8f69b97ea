"""Student architectures, registered by name so a recipe picks one and a new one is one function.

Every layer is named explicitly: stable names give stable tensor names, and so byte-identical
artifacts across processes (Keras' per-process name counters otherwise leak into the file).
BatchNorm momentum comes from the recipe: at Keras' default 0.999 the moving statistics never
settle in a few hundred steps and a MobileNetV2 on 1,400 digits scores 8% (shared/NOTES.md).
"""

from __future__ import annotations

from typing import Callable

from edgebuild.errors import BadInput

_STUDENTS: dict[str, Callable] = {}
POOL_LAYER = "pool"  # every student ends in this pooling layer; its input is the feature map distillation matches

def register_student(builder: Callable) -> Callable:
    _STUDENTS[builder.__name__] = builder
    return builder


def student_names() -> list[str]:
    return sorted(_STUDENTS)


def build_student(config, input_shape: tuple[int, int, int], num_classes: int):
    """The untrained Keras model for a recipe's `student` section."""
    if config.architecture not in _STUDENTS:
        raise BadInput(f"unknown student {config.architecture!r}: expected one of {', '.join(student_names())}")
    return _STUDENTS[config.architecture](config, input_shape, num_classes)


def _scaled(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


def _conv_bn_relu(layers, x, name: str, momentum: float, *, filters=None, kernel=1, stride=1, depthwise=False):
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    else:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def _stem(config, input_shape):
    """Keras, its layers, the named input and the stem conv every student starts with."""
    import tf_keras as keras

    layers = keras.layers
    inputs = layers.Input(input_shape, name="input")
    x = _conv_bn_relu(layers, inputs, "stem", config.bn_momentum, filters=_scaled(config.stem_channels, config.width),
                      kernel=3)
    return keras, layers, inputs, x


def _head(layers, keras, inputs, x, num_classes: int, name: str):
    x = layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)


@register_student
def mobilenet_v1(config, input_shape, num_classes):
    """Depthwise-separable blocks (Howard et al. 2017)."""
    keras, layers, inputs, x = _stem(config, input_shape)
    m = config.bn_momentum
    for index, block in enumerate(config.blocks):
        name = f"block{index}"
        x = _conv_bn_relu(layers, x, name, m, kernel=3, stride=block.stride, depthwise=True)
        x = _conv_bn_relu(layers, x, f"{name}_pw", m, filters=_scaled(block.channels, config.width))
    return _head(layers, keras, inputs, x, num_classes, "mobilenet_v1")


@register_student
def mobilenet_v2(config, input_shape, num_classes):
    """Inverted residuals with linear bottlenecks (Sandler et al. 2018)."""
    keras, layers, inputs, x = _stem(config, input_shape)
    m = config.bn_momentum
    for index, block in enumerate(config.blocks):
        name = f"block{index}"
        channels_in = x.shape[-1]
        channels_out = _scaled(block.channels, config.width)
        h = _conv_bn_relu(layers, x, f"{name}_expand", m, filters=channels_in * block.expansion)
        h = _conv_bn_relu(layers, h, name, m, kernel=3, stride=block.stride, depthwise=True)
        h = layers.Conv2D(channels_out, 1, use_bias=False, name=f"{name}_project_conv")(h)
        h = layers.BatchNormalization(momentum=m, name=f"{name}_project_bn")(h)
        x = layers.Add(name=f"{name}_add")([x, h]) if block.stride == 1 and channels_in == channels_out else h
    return _head(layers, keras, inputs, x, num_classes, "mobilenet_v2")
