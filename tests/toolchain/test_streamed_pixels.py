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
