"""Declarative augmentation: each training batch changed on the fly, labels kept with their images,
the test split untouched, and the stages that train with it keyed on it."""

from __future__ import annotations

import numpy as np

from tiny_builds import write_recipe


def test_every_augmented_image_is_its_own_original_or_its_mirror_and_keeps_its_label():
    from edgebuild.config.recipe import AugmentConfig
    from edgebuild.toolchain.augment import training_batches

    random = np.random.default_rng(0)
    x = random.random((64, 6, 6, 1)).astype(np.float32)
    y = np.arange(64)
    seen_flipped = 0
    for images, labels in training_batches(x, y, 16, AugmentConfig(flip="horizontal"), seed=1):
        for image, label in zip(images.numpy(), labels.numpy()):
            original = x[label]
            assert np.allclose(image, original) or np.allclose(image, original[:, ::-1])
            seen_flipped += not np.allclose(image, original)
    assert 10 < seen_flipped < 54  # about half, at random


def test_shift_rotation_brightness_and_contrast_change_the_pixels_within_range():
    from edgebuild.config.recipe import AugmentConfig
    from edgebuild.toolchain.augment import training_batches

    x = np.random.default_rng(0).random((32, 8, 8, 1)).astype(np.float32)
    config = AugmentConfig(shift=0.2, rotation=0.1, brightness=0.2, contrast=0.3)
    (images, labels), = list(training_batches(x, np.arange(32), 32, config, seed=0))
    changed = images.numpy()
    assert changed.shape == x.shape
    assert not np.allclose(changed, x[labels.numpy()])
    assert changed.min() >= 0.0 and changed.max() <= 1.0


def test_a_recipe_with_augmentation_trains_with_it_keys_on_it_and_leaves_the_data_alone(tmp_path):
    from edgebuild.app.build import recipe_context
    from edgebuild.app.pipeline import walk

    runs = {}
    for name, augment in (("plain", None), ("augmented", {"flip": "none", "shift": 0.1, "contrast": 0.2})):
        folder = tmp_path / name
        folder.mkdir()
        path = write_recipe(folder, augment=augment)
        ctx = recipe_context(str(path), ["android-flagship"], cache_root=tmp_path / "cache")
        runs[name] = walk(ctx, until="teacher").runs["android-flagship"]
    plain, augmented = runs["plain"], runs["augmented"]
    assert plain.key("data") == augmented.key("data")
    assert plain.key("teacher") != augmented.key("teacher")
    assert augmented.output("teacher").metrics["accuracy"] > 0.5


def test_training_and_inference_pipelines_run_without_the_autotune_model_that_stalls_their_teardown():
    from edgebuild.config.recipe import AugmentConfig
    from edgebuild.toolchain.augment import inference_batches, training_batches

    x = np.zeros((8, 4, 4, 1), np.uint8)
    for pipeline in (training_batches(x, np.arange(8), 4, AugmentConfig(flip="horizontal"), seed=0),
                     training_batches(x, np.arange(8), 4, None, seed=0), inference_batches(x, 4)):
        assert pipeline.options().autotune.enabled is False


def test_logits_are_keras_own_predict_batch_for_batch():
    from edgebuild.base import tfenv

    tfenv.tensorflow(0)
    import tf_keras as keras

    from edgebuild.toolchain.training import logits

    model = keras.Sequential([keras.layers.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    pixels = np.random.default_rng(0).integers(0, 256, (600, 4, 4, 1), dtype=np.uint8)
    expected = model.predict(pixels.astype(np.float32) / 255, batch_size=256, verbose=0)
    assert logits(model, pixels).shape == (600, 3)
    np.testing.assert_array_equal(logits(model, pixels), expected)
