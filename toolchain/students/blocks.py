"""What the students share: width and stem settings, a named stem, conv-BN-ReLU6 units, the
inverted residual block and the classifier head."""

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


def conv_bn_relu(layers, x, name: str, momentum: float, *, filters=None, kernel=1, stride=1, depthwise=False,
                 activation=None):
    """Conv (or depthwise conv), BatchNorm, then ReLU6 or `activation(layers, x, name)`."""
    if depthwise:
        x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    else:
        x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    if activation is not None:
        return activation(layers, x, name)
    return layers.ReLU(6.0, name=f"{name}_relu")(x)


def inverted_residual(layers, x, name: str, momentum: float, *, channels_out: int, expansion: int, stride: int,
                      kernel: int = 3, activation=None, excite=None):
    """Expand 1x1 → depthwise k×k → (optional squeeze-and-excite) → linear 1x1 projection, plus the
    input when the shape allows (MobileNetV2, EfficientNet-Lite, MobileNetV3). `activation(layers, x,
    name)` replaces ReLU6 after the expansion and the depthwise conv; `excite(layers, x, name)` adds SE."""
    channels_in = x.shape[-1]
    h = x
    if expansion != 1:
        h = conv_bn_relu(layers, h, f"{name}_expand", momentum, filters=channels_in * expansion, activation=activation)
    h = conv_bn_relu(layers, h, name, momentum, kernel=kernel, stride=stride, depthwise=True, activation=activation)
    if excite is not None:
        h = excite(layers, h, name)
    h = layers.Conv2D(channels_out, 1, use_bias=False, name=f"{name}_project_conv")(h)
    h = layers.BatchNormalization(momentum=momentum, name=f"{name}_project_bn")(h)
    return layers.Add(name=f"{name}_add")([x, h]) if stride == 1 and channels_in == channels_out else h


def stem(config: WidthScaled, input_shape, *, stride: int = 1, activation=None):
    """Keras, its layers, the named input and the 3x3 stem conv."""
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    layers = keras.layers
    inputs = layers.Input(input_shape, name="input")
    x = conv_bn_relu(layers, inputs, "stem", config.bn_momentum, filters=scaled(config.stem_channels, config.width),
                     kernel=3, stride=stride, activation=activation)
    return keras, layers, inputs, x


def head(layers, keras, inputs, x, num_classes: int, name: str):
    x = layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    outputs = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
