"""The one place TensorFlow is imported: TF-MOT needs Keras 2, which must be chosen before import."""

from __future__ import annotations

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def tensorflow(seed: int | None = None):
    """Import TensorFlow with legacy Keras; with a seed, make training and kernels deterministic."""
    import tensorflow as tf
    import tf_keras

    tf.get_logger().setLevel("ERROR")
    if seed is not None:
        tf_keras.utils.set_random_seed(seed)
        # Same seed + op determinism in a fresh process gives byte-identical artifacts (checked).
        tf.config.experimental.enable_op_determinism()
    return tf


# They check an artifact (the NPU compiler, the micro runtime) but never write its bytes: the report
# records their versions beside the checks they ran; the artifact's own metadata leaves them out.
CHECKING_TOOLS = ("ethos-u-vela", "tflite-micro")


def tool_versions() -> dict[str, str]:
    """Versions that go into every report and every cache key, read without importing TensorFlow."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from edgebuild import __version__

    found = {"python": platform.python_version(), "edgebuild": __version__}
    for package in ("tensorflow", "tf-keras", "tensorflow-model-optimization", "ai-edge-litert", "numpy",
                    *CHECKING_TOOLS):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found
