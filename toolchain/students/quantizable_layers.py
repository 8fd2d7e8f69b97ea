"""Layers TF-MOT can train with, for what Keras only offers as TFOpLambda: hard-swish and
hard-sigmoid (MobileNetV3), and the Multiply of squeeze-and-excite, which TF-MOT's default scheme
does not quantize. Keras' own MobileNetV3Small fails QAT and pruning on exactly these
(tensorflow/model-optimization#602, #647).

Each is a PrunableLayer with no prunable weights (pruning passes through it) and is quantized by
`OutputQuantizeConfig`: its output fake-quantized to int8 like an activation's. Defined on first use,
so validating a recipe never imports TensorFlow.
"""

from __future__ import annotations

import functools


@functools.cache
def custom_layers() -> dict[str, type]:
    """HardSwish and HardSigmoid by class name, as Keras' custom objects."""
    from edgebuild.base import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    class HardSigmoid(keras.layers.Layer, tfmot.sparsity.keras.PrunableLayer):
        """relu6(x + 3) / 6, as in Howard et al. 2019."""

        def call(self, inputs):
            return tf.nn.relu6(inputs + 3.0) * (1.0 / 6.0)

        def get_prunable_weights(self):
            return []

    class HardSwish(HardSigmoid):
        """x · relu6(x + 3) / 6: the converter fuses it into TFLite's HARD_SWISH."""

        def call(self, inputs):
            return inputs * tf.nn.relu6(inputs + 3.0) * (1.0 / 6.0)

    return {"HardSigmoid": HardSigmoid, "HardSwish": HardSwish}


@functools.cache
def output_quantize_config() -> type:
    import tensorflow_model_optimization as tfmot

    quantizers = tfmot.quantization.keras.quantizers

    class OutputQuantizeConfig(tfmot.quantization.keras.QuantizeConfig):
        """No weights, no inner activations: only the output is fake-quantized (asymmetric int8)."""

        def get_weights_and_quantizers(self, layer):
            return []

        def get_activations_and_quantizers(self, layer):
            return []

        def set_quantize_weights(self, layer, quantize_weights):
            pass

        def set_quantize_activations(self, layer, quantize_activations):
            pass

        def get_output_quantizers(self, layer):
            return [quantizers.MovingAverageQuantizer(num_bits=8, per_axis=False, symmetric=False,
                                                      narrow_range=False)]

        def get_config(self):
            return {}

    return OutputQuantizeConfig


def quantize_annotated(model):
    """`model` annotated for `quantize_apply`, with the custom objects its scope needs: the layers
    above (and Multiply) get `OutputQuantizeConfig`, every other layer TF-MOT's default."""
    import tensorflow_model_optimization as tfmot
    import tf_keras as keras

    annotate = tfmot.quantization.keras.quantize_annotate_layer
    config = output_quantize_config()
    custom = (*custom_layers().values(), keras.layers.Multiply)

    def wrap(layer):  # the layer itself, wrapped: its weights carry over, as in quantize_annotate_model
        return annotate(layer, config() if isinstance(layer, custom) else None)

    annotated = keras.models.clone_model(model, clone_function=wrap)
    return annotated, {**custom_layers(), "OutputQuantizeConfig": config}
