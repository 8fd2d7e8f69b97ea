"""The architectures behind published phone latencies, rebuilt with random weights and converted.

qai-hub-models times torchvision and timm networks; the same architectures exist in
tf_keras.applications or are a few lines of Keras (ResNet-18, ResNeXt, Wide ResNet, SqueezeNet).
Random weights are enough: the latency features (converters/latency_features.py) are MACs and
tensor shapes, which the weights do not change. Input sizes are the published ones (each model's
`*_DIM` in qai_hub_models/models/<id>/model.py, else its manifest's "Input resolution").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ReferenceModel:
    """`application`: a tf_keras.applications class name, or a builder in this module."""

    qai_hub_id: str
    application: str
    input_size: int
    keyword_arguments: tuple[tuple[str, object], ...] = ()


_NO_PREPROCESSING = (("include_preprocessing", False),)

REFERENCE_MODELS = {model.qai_hub_id: model for model in (
    ReferenceModel("mobilenet_v2", "MobileNetV2", 224),
    ReferenceModel("mobilenet_v3_large", "MobileNetV3Large", 224, _NO_PREPROCESSING),
    ReferenceModel("mobilenet_v3_small", "MobileNetV3Small", 224, _NO_PREPROCESSING),
    ReferenceModel("resnet18", "resnet18", 224),
    ReferenceModel("resnet50", "ResNet50", 224),
    ReferenceModel("resnet101", "ResNet101", 224),
    ReferenceModel("resnext50", "resnext50_32x4d", 224),
    ReferenceModel("resnext101", "resnext101_32x8d", 224),
    ReferenceModel("wideresnet50", "wide_resnet50_2", 224),
    ReferenceModel("squeezenet1_1", "squeezenet1_1", 224),
    ReferenceModel("densenet121", "DenseNet121", 224),
    ReferenceModel("inception_v3", "InceptionV3", 299),
    ReferenceModel("efficientnet_b0", "EfficientNetB0", 224),
    ReferenceModel("efficientnet_b4", "EfficientNetB4", 380),
    ReferenceModel("efficientnet_v2_s", "EfficientNetV2S", 384, _NO_PREPROCESSING),
    ReferenceModel("convnext_tiny", "ConvNeXtTiny", 224, _NO_PREPROCESSING),
    ReferenceModel("convnext_base", "ConvNeXtBase", 224, _NO_PREPROCESSING),
    ReferenceModel("regnet", "RegNetX032", 224, _NO_PREPROCESSING),  # torchvision regnet_x_3_2gf
    ReferenceModel("regnet_y_800mf", "RegNetY008", 224, _NO_PREPROCESSING),
    ReferenceModel("nasnet", "NASNetLarge", 331),  # timm nasnetalarge
)}


def reference_tflite(model: ReferenceModel) -> bytes:
    """The architecture at its published input size, random weights, converted to float32 .tflite."""
    from edgebuild.base.tfenv import tensorflow

    tf = tensorflow(seed=0)
    keras_model = _build(model)
    converter = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    return converter.convert()


def _build(model: ReferenceModel):
    import tf_keras

    shape = (model.input_size, model.input_size, 3)
    custom = _CUSTOM_BUILDERS.get(model.application)
    if custom is not None:
        return custom(tf_keras, shape)
    application = getattr(tf_keras.applications, model.application)
    return application(weights=None, input_shape=shape, classes=1000, **dict(model.keyword_arguments))


def _resnet(blocks: tuple[int, ...], bottleneck: bool, groups: int = 1, width_per_group: int = 64):
    """torchvision's ResNet family: stem, four stages of basic or bottleneck blocks, pooled classifier."""
    def build(keras, shape):
        layers = keras.layers
        inputs = keras.Input(shape)
        x = _conv_bn(layers, inputs, 64, 7, 2)
        x = layers.MaxPooling2D(3, 2, padding="same")(x)
        for stage, count in enumerate(blocks):
            planes = 64 * 2 ** stage
            for index in range(count):
                stride = 2 if stage > 0 and index == 0 else 1
                x = (_bottleneck(layers, x, planes, stride, groups, width_per_group) if bottleneck
                     else _basic(layers, x, planes, stride))
        x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(inputs, layers.Dense(1000)(x))
    return build


def _conv_bn(layers, x, filters: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True):
    x = layers.Conv2D(filters, kernel, stride, padding="same", groups=groups, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x) if relu else x


def _shortcut(layers, x, filters: int, stride: int):
    return x if stride == 1 and x.shape[-1] == filters else _conv_bn(layers, x, filters, 1, stride, relu=False)


def _basic(layers, x, planes: int, stride: int):
    y = _conv_bn(layers, _conv_bn(layers, x, planes, 3, stride), planes, 3, relu=False)
    return layers.ReLU()(layers.Add()([y, _shortcut(layers, x, planes, stride)]))


def _bottleneck(layers, x, planes: int, stride: int, groups: int, width_per_group: int):
    width = planes * width_per_group // 64 * groups
    y = _conv_bn(layers, x, width, 1)
    y = _conv_bn(layers, y, width, 3, stride, groups)
    y = _conv_bn(layers, y, planes * 4, 1, relu=False)
    return layers.ReLU()(layers.Add()([y, _shortcut(layers, x, planes * 4, stride)]))


def _squeezenet1_1(keras, shape):
    layers = keras.layers
    inputs = keras.Input(shape)
    x = layers.Conv2D(64, 3, 2, activation="relu")(inputs)
    for index, (squeeze, expand) in enumerate(((16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192),
                                               (64, 256), (64, 256))):
        if index in (0, 2, 4):
            x = layers.MaxPooling2D(3, 2)(x)
        x = layers.Conv2D(squeeze, 1, activation="relu")(x)
        x = layers.Concatenate()([layers.Conv2D(expand, 1, activation="relu")(x),
                                  layers.Conv2D(expand, 3, padding="same", activation="relu")(x)])
    x = layers.Conv2D(1000, 1, activation="relu")(x)
    return keras.Model(inputs, layers.GlobalAveragePooling2D()(x))


_CUSTOM_BUILDERS: dict[str, Callable] = {
    "resnet18": _resnet((2, 2, 2, 2), bottleneck=False),
    "resnext50_32x4d": _resnet((3, 4, 6, 3), bottleneck=True, groups=32, width_per_group=4),
    "resnext101_32x8d": _resnet((3, 4, 23, 3), bottleneck=True, groups=32, width_per_group=8),
    "wide_resnet50_2": _resnet((3, 4, 6, 3), bottleneck=True, width_per_group=128),
    "squeezenet1_1": _squeezenet1_1,
}
