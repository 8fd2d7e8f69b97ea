"""8-bit data stays uint8 in memory: training batches and inference turn it into model input (x / 255)
a batch or a chunk at a time, with the same numbers a float32 copy of the whole set would give."""

from __future__ import annotations

import numpy as np


def _pixels(rows: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (rows, 6, 6, 1), dtype=np.uint8)


def test_model_input_scales_8_bit_pixels_and_leaves_floats_alone():
    from edgebuild.toolchain.datasets import model_input

    pixels = _pixels(4)
    assert model_input(pixels).dtype == np.float32
    assert np.array_equal(model_input(pixels), pixels.astype(np.float32) / 255.0)
    floats = np.random.default_rng(1).random((4, 6, 6, 1)).astype(np.float32)
    assert model_input(floats) is floats


def test_training_batches_of_8_bit_pixels_are_each_image_over_255_with_its_label():
    from edgebuild.toolchain.augment import training_batches

    pixels = _pixels(50)
    seen = []
    for images, labels in training_batches(pixels, np.arange(50), 16, None, seed=0):
        assert images.dtype.name == "float32"
        for image, label in zip(images.numpy(), labels.numpy()):
            assert np.array_equal(image, pixels[label].astype(np.float32) / 255.0)
            seen.append(int(label))
    assert sorted(seen) == list(range(50)) and seen != list(range(50))  # every image once, shuffled


def test_chunked_inference_gives_the_outputs_of_one_float32_pass():
    from edgebuild.toolchain.datasets import CHUNK_ROWS
    from edgebuild.toolchain.training import keras, logits

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Input((6, 6, 1)), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    pixels = _pixels(CHUNK_ROWS + 300)  # two chunks, the second one partial
    whole = model.predict(pixels.astype(np.float32) / 255.0, batch_size=256, verbose=0)
    assert np.array_equal(logits(model, pixels), whole)


def test_an_interpreter_child_reads_8_bit_pixels_a_block_at_a_time_with_the_scores_of_float_inputs(
        tmp_path, monkeypatch):
    from ai_edge_litert.interpreter import Interpreter

    from edgebuild.base.tfenv import tensorflow
    from edgebuild.on_device_bench import accuracy
    from edgebuild.toolchain.datasets import model_input, save_labelled
    from edgebuild.toolchain.training import keras

    tf = tensorflow(seed=0)
    model = keras.Sequential([keras.layers.Input((6, 6, 1), batch_size=2), keras.layers.Conv2D(4, 3),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    pixels, labels = _pixels(23), np.arange(23) % 3
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([model_input(pixels[i:i + 2])] for i in range(0, 22, 2))
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    interpreter = Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    save_labelled(tmp_path / "data.npz", pixels, labels)
    samples, read_labels, divisor = accuracy.load_labelled(str(tmp_path / "data.npz"))
    assert samples.dtype == np.uint8 and np.array_equal(samples, pixels) and np.array_equal(read_labels, labels)
    assert divisor.dtype == np.float32 and divisor == 255

    whole = accuracy.predict_scores(interpreter, model_input(pixels))
    monkeypatch.setattr(accuracy, "BLOCK_ROWS", 5)  # blocks of 6 rows (3 batches of 2); the last batch padded
    assert np.array_equal(accuracy.predict_scores(interpreter, samples, divisor), whole)
    assert accuracy.top1_accuracy(interpreter, str(tmp_path / "data.npz"))["top1"] == np.mean(
        np.argmax(whole, axis=1) == labels)
