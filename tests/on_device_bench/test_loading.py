"""How a runtime's refusal is worded: a runtime built for another NumPy is not a broken model."""

from __future__ import annotations

import pytest

from edgebuild.on_device_bench.errors import BenchError
from edgebuild.on_device_bench.loading import load_model
from edgebuild.on_device_bench.runtime import Runtime


def interpreter_built_for_numpy_1(**_):
    """What tflite-runtime 2.14 raises under NumPy 2 when it makes its first interpreter."""
    try:
        raise ImportError("numpy.core.multiarray failed to import")
    except ImportError as cause:
        raise SystemError("<built-in method CreateWrapperFromFile of PyCapsule object at 0x7f> "
                          "returned a result with an exception set") from cause


def interpreter_refusing_the_file(**_):
    raise ValueError("The model is not a valid Flatbuffer buffer")


def test_a_runtime_built_for_numpy_1_is_named_not_the_model(float_classifier):
    runtime = Runtime("tflite-runtime", "2.14.0", interpreter_built_for_numpy_1)

    with pytest.raises(BenchError, match=r"^the runtime tflite-runtime 2.14.0 was built for NumPy 1.x") as raised:
        load_model(runtime, str(float_classifier), threads=1)
    assert raised.value.path is None


def test_a_refused_file_is_named_with_its_path(float_classifier):
    runtime = Runtime("ai-edge-litert", "2.3.0", interpreter_refusing_the_file)

    with pytest.raises(BenchError, match="not a model the runtime can load: The model is not a valid") as raised:
        load_model(runtime, str(float_classifier), threads=1)
    assert raised.value.path == str(float_classifier)
