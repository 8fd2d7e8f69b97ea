"""What the MobileNet-style students share: width and stem settings, a named stem, conv-BN-ReLU6
units and the classifier head."""

from __future__ import annotations

from pydantic import PositiveFloat, PositiveInt

from edgebuild.config.students import StudentConfig

POOL_LAYER = "pool"  # every student ends in this pooling layer; its input is the feature map distillation matches


class WidthScaled(StudentConfig):
    """A student whose channel counts scale with `width`, after a 3x3 stem of `stem_channels`."""

    width: PositiveFloat = 1.0
    """Multiplies every block's channel count (at least 4)."""
    stem_channels: PositiveInt = 8
    """Output channels of the 3x3 stem convolution."""


def scaled(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


def conv_bn_relu(layers, x, name: str, momentum: float, *, filters=None, kernel=1, stride=1, depthwise=False):
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    else:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def stem(config: WidthScaled, input_shape):
    """Keras, its layers, the named input and the 3x3 stem conv."""
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    layers = keras.layers
    inputs = layers.Input(input_shape, name="input")
    x = conv_bn_relu(layers, inputs, "stem", config.bn_momentum, filters=scaled(config.stem_channels, config.width),
                     kernel=3)
    return keras, layers, inputs, x


def head(layers, keras, inputs, x, num_classes: int, name: str):
    x = layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
