"""The Fashion-MNIST job written by hand from the TF-MOT and Keras guides, as a competent user would, without edgebuild.

    python bench/handwritten_fashion.py [--seed 0]      (19 to 30 minutes on 2 cores over four runs, 2026-12-03)

Debian's dataset-fashion-mnist idx files (60,000 training images, its own 10,000 test images, /255);
training batches through tf.data with a random horizontal flip and an 8% shift (Keras preprocessing
layers), never the test images; Adam with a cosine decay to zero in every phase; a three-block CNN
teacher; the Keras distillation guide's Distiller (the teacher runs on every augmented batch, T=4,
alpha=0.5) into an EfficientNet-Lite student written out layer by layer (MBConv, ReLU6, no SE,
BatchNorm momentum 0.99), the same shape as the `fashion` recipe's; 50% magnitude pruning
(PolynomialDecay over two thirds of the fine-tune); sparsity-preserving QAT; full-int8 conversion
calibrated on 500 training images, int8 input/output. Epochs, batch sizes and learning rates are the
recipe's. The last stdout line is a JSON object: the artifact's top-1 on the 10,000 test images in
ai_edge_litert's Interpreter, its size and gzip -9 size, the wall time and each phase's seconds.
bench/fashion.py runs this beside `edgebuild build fashion`.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TF-MOT 0.8 needs Keras 2

import gzip
import json
import math
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras

from handwritten_tfmot import Distiller, convert_int8, script_arguments, tflite_accuracy

FASHION = Path("/usr/share/datasets/fashion-mnist")
BATCH = 128
EPOCHS = {"teacher": 15, "distill": 12, "prune": 4, "qat": 4}
RATES = {"teacher": 2e-3, "distill": 4e-3, "prune": 1e-3, "qat": 3e-4}


def read_idx(name):
    """An idx file (big-endian dimensions after a 4-byte magic number whose last byte is the rank)."""
    raw = gzip.decompress((FASHION / name).read_bytes())
    rank = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * rank).reshape(shape)


def load_data():
    def images(name):
        return (read_idx(name).astype(np.float32) / 255.0)[..., None]

    return (images("train-images-idx3-ubyte.gz"), read_idx("train-labels-idx1-ubyte.gz").astype(np.int64),
            images("t10k-images-idx3-ubyte.gz"), read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))


def augmented(x, y, seed):
    changes = keras.Sequential([keras.layers.RandomFlip("horizontal", seed=seed),
                                keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=seed + 1)])
    return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed).batch(BATCH)
            .map(lambda images, labels: (changes(images, training=True), labels), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def cosine_adam(phase, samples):
    return keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
        RATES[phase], math.ceil(samples / BATCH) * EPOCHS[phase]))


def fit(model, phase, batches, samples, callbacks=()):
    model.compile(optimizer=cosine_adam(phase, samples),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(batches, epochs=EPOCHS[phase], verbose=0, callbacks=list(callbacks))
    return model


def make_teacher():
    layers = keras.layers
    model = keras.Sequential([layers.Input((28, 28, 1))])
    for filters in (32, 64, 128):
        model.add(layers.Conv2D(filters, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D())
    for layer in (layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dropout(0.3), layers.Dense(10)):
        model.add(layer)
    return model


def make_student():
    layers = keras.layers

    def bn(x, relu=True):
        x = layers.BatchNormalization(momentum=0.99)(x)  # ~470 steps an epoch: 0.999 lags behind
        return layers.ReLU(6.0)(x) if relu else x

    def mbconv(x, channels, stride, expansion):
        h = x
        if expansion != 1:
            h = bn(layers.Conv2D(x.shape[-1] * expansion, 1, use_bias=False)(h))
        h = bn(layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(h))
        h = bn(layers.Conv2D(channels, 1, use_bias=False)(h), relu=False)
        return layers.Add()([x, h]) if stride == 1 and x.shape[-1] == channels else h

    inputs = layers.Input((28, 28, 1))
    x = bn(layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs))
    for channels, stride, expansion in [(16, 1, 1), (24, 2, 4), (24, 1, 4), (48, 2, 4), (48, 1, 4), (96, 1, 4)]:
        x = mbconv(x, channels, stride, expansion)
    x = bn(layers.Conv2D(256, 1, use_bias=False)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(10)(x))


def prune(model, batches, samples):
    steps = math.ceil(samples / BATCH) * EPOCHS["prune"]
    end_step = (2 * steps) // 3  # reach 50% with a third of the fine-tune left to recover
    schedule = tfmot.sparsity.keras.PolynomialDecay(0.0, 0.5, begin_step=0, end_step=end_step, frequency=100)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    fit(pruned, "prune", batches, samples, [tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(pruned)


def quantize_aware(model, batches, samples):
    annotated = tfmot.quantization.keras.quantize_annotate_model(model)
    qat = tfmot.quantization.keras.quantize_apply(
        annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme())
    return fit(qat, "qat", batches, samples)


def main():
    args = script_arguments(__doc__)
    started = time.perf_counter()
    seconds = {}

    def phase(name, work):
        begun = time.perf_counter()
        result = work()
        seconds[name] = round(time.perf_counter() - begun, 2)
        return result

    keras.utils.set_random_seed(args.seed)
    x_train, y_train, x_test, y_test = phase("data", load_data)
    batches, samples = augmented(x_train, y_train, args.seed), len(x_train)
    float_accuracy = {}

    def top1(name, model):  # each phase's float model on the test images, before the next one changes it
        float_accuracy[name] = float(np.mean(np.argmax(model.predict(x_test, batch_size=512, verbose=0), 1) == y_test))
        return model

    teacher = top1("teacher", phase("teacher", lambda: fit(make_teacher(), "teacher", batches, samples)))
    student = make_student()
    distiller = Distiller(student, teacher, temperature=4.0, alpha=0.5)
    distiller.compile(optimizer=cosine_adam("distill", samples))
    phase("distill", lambda: distiller.fit(batches, epochs=EPOCHS["distill"], verbose=0))
    top1("distill", student)
    pruned = top1("prune", phase("prune", lambda: prune(student, batches, samples)))
    qat = top1("qat", phase("qat", lambda: quantize_aware(pruned, batches, samples)))
    tflite_bytes = phase("convert", lambda: convert_int8(qat, x_train, samples=500))
    if args.out:
        Path(args.out).write_bytes(tflite_bytes)

    result = {
        "float_test_accuracy": float_accuracy,
        "artifact_test_accuracy": phase("measure", lambda: tflite_accuracy(tflite_bytes, x_test, y_test)),
        "size_bytes": len(tflite_bytes),
        "gzip_bytes": len(gzip.compress(tflite_bytes, compresslevel=9, mtime=0)),
        "phase_seconds": seconds,
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
