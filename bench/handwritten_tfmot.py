"""The digits job written by hand from the TF-MOT guides, as a user would, without edgebuild.

    python bench/handwritten_tfmot.py [--seed 0]      (1-2 minutes on 2 shared cores)

sklearn digits (/16, 16x16 by tf.image.resize), stratified 80/20 split; a small CNN teacher;
response distillation (T=4, alpha=0.1, after the Keras distillation guide) into a depthwise-separable
student with BatchNorm momentum 0.9; 50% magnitude pruning (PolynomialDecay); sparsity-preserving
QAT; full-int8 conversion with int8 input/output. The last stdout line is a JSON object: the
artifact's top-1 on all 1,797 digits in ai_edge_litert's Interpreter, its size and gzip -9 size,
and the wall time. bench/vs_handwritten.py runs this beside `edgebuild build`.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # TF-MOT 0.8 needs Keras 2

import argparse
import gzip
import json
import tempfile
import time

import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras as keras
from ai_edge_litert.interpreter import Interpreter
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

BATCH = 32
TEMPERATURE, ALPHA = 4.0, 0.1


def load_data(seed):
    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[..., None]
    x = tf.image.resize(x, (16, 16)).numpy()
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, stratify=y, random_state=seed)
    return x, y, x_train, x_test, y_train, y_test


def make_teacher():
    return keras.Sequential([
        keras.layers.Input((16, 16, 1)),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10),
    ])


def make_student():
    def bn_relu(x):
        x = keras.layers.BatchNormalization(momentum=0.9)(x)  # 0.999 never settles in ~300 steps
        return keras.layers.ReLU()(x)

    inputs = keras.layers.Input((16, 16, 1))
    x = bn_relu(keras.layers.Conv2D(16, 3, padding="same", use_bias=False)(inputs))
    for channels, stride in [(24, 2), (48, 2), (48, 1)]:
        x = bn_relu(keras.layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x))
        x = bn_relu(keras.layers.Conv2D(channels, 1, use_bias=False)(x))
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


class Distiller(keras.Model):
    """The Keras "Knowledge Distillation" guide's Distiller, trimmed."""

    def __init__(self, student, teacher, temperature=TEMPERATURE, alpha=ALPHA):
        super().__init__()
        self.student, self.teacher = student, teacher
        self.temperature, self.alpha = temperature, alpha
        self.hard_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.soft_loss = keras.losses.KLDivergence()

    def train_step(self, data):
        x, y = data
        teacher_logits = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_logits = self.student(x, training=True)
            hard = self.hard_loss(y, student_logits)
            soft = self.soft_loss(tf.nn.softmax(teacher_logits / self.temperature),
                                  tf.nn.softmax(student_logits / self.temperature)) * self.temperature**2
            loss = self.alpha * hard + (1 - self.alpha) * soft
        grads = tape.gradient(loss, self.student.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.student.trainable_variables))
        return {"loss": loss}


def compile_and_fit(model, x, y, epochs, lr, callbacks=()):
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=epochs, batch_size=BATCH, verbose=0, callbacks=list(callbacks))
    return model


def prune(model, x, y, epochs=8):
    steps_per_epoch = int(np.ceil(len(x) / BATCH))
    end_step = steps_per_epoch * (epochs - 2)  # reach 50% with two epochs left to recover
    schedule = tfmot.sparsity.keras.PolynomialDecay(0.0, 0.5, begin_step=0, end_step=end_step, frequency=10)
    pruned = tfmot.sparsity.keras.prune_low_magnitude(model, pruning_schedule=schedule)
    compile_and_fit(pruned, x, y, epochs, 1e-3, [tfmot.sparsity.keras.UpdatePruningStep()])
    return tfmot.sparsity.keras.strip_pruning(pruned)


def quantize_aware(model, x, y, epochs=4):
    annotated = tfmot.quantization.keras.quantize_annotate_model(model)
    qat = tfmot.quantization.keras.quantize_apply(
        annotated, tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme())
    return compile_and_fit(qat, x, y, epochs, 3e-4)


def convert_int8(model, x_train, samples=200):
    def representative_dataset():
        for i in range(samples):
            yield [x_train[i:i + 1]]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative_dataset
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def tflite_accuracy(tflite_bytes, x, y):
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(tflite_bytes)
        f.flush()
        interpreter = Interpreter(model_path=f.name)
    interpreter.allocate_tensors()
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero_point = inp["quantization"]
    x_q = np.clip(np.round(x / scale + zero_point), -128, 127).astype(np.int8)
    correct = 0
    for sample, label in zip(x_q, y):
        interpreter.set_tensor(inp["index"], sample[None])
        interpreter.invoke()
        correct += int(np.argmax(interpreter.get_tensor(out["index"])[0]) == label)
    return correct / len(y)


def script_arguments(doc):
    """--seed and --out, which every hand-written script takes."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the .tflite here")
    return parser.parse_args()


def main():
    args = script_arguments(__doc__)
    started = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    x, y, x_train, x_test, y_train, y_test = load_data(args.seed)

    teacher = compile_and_fit(make_teacher(), x_train, y_train, epochs=30, lr=2e-3)
    student = make_student()
    distiller = Distiller(student, teacher)
    distiller.compile(optimizer=keras.optimizers.Adam(4e-3))
    distiller.fit(x_train, y_train, epochs=30, batch_size=BATCH, verbose=0)
    pruned = prune(student, x_train, y_train)
    qat = quantize_aware(pruned, x_train, y_train)
    tflite_bytes = convert_int8(qat, x_train)
    if args.out:
        with open(args.out, "wb") as f:
            f.write(tflite_bytes)

    result = {
        "teacher_test_accuracy": teacher.evaluate(x_test, y_test, verbose=0)[1],
        "artifact_test_accuracy": tflite_accuracy(tflite_bytes, x_test, y_test),
        "artifact_all_data_accuracy": tflite_accuracy(tflite_bytes, x, y),
        "size_bytes": len(tflite_bytes),
        "gzip_bytes": len(gzip.compress(tflite_bytes, compresslevel=9)),
        "wall_seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
