"""Damaged files through the real CLI: no model is exit 2 in one line; a model that cannot run is exit 1.

Each bit flip is placed by reading the flatbuffer with the generated schema, so the test knows what
it broke rather than depending on where a converter happens to lay the bytes out.
"""

from __future__ import annotations

import struct
import time

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from cli_runner import assert_one_line_error
from verify_cli import checks_of, verify

_MODEL_DESCRIPTION_FIELD = 10  # vtable offset of Model.description
_TENSOR_SHAPE_FIELD = 4  # vtable offset of Tensor.shape
_BUFFER_DATA_FIELD = 4  # vtable offset of Buffer.data


def _flipped(data: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def _offset_field_position(table, field: int) -> int:
    return table._tab.Pos + table._tab.Offset(field)


def _vector_start(table, field: int) -> int:
    return table._tab.Vector(table._tab.Offset(field))


def _constant_tensors(data: bytes):
    model = schema.Model.GetRootAs(data, 0)
    subgraph = model.Subgraphs(0)
    for index in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(index)
        buffer = model.Buffers(tensor.Buffer())
        if buffer.DataLength():
            yield tensor, buffer


def _root_offset_flipped(data: bytes) -> bytes:
    """The root table offset (bytes 0:4) gains 1 GiB: it points far past the end of the file."""
    return _flipped(data, 3, 6)


def _description_offset_flipped(data: bytes) -> bytes:
    """The description string's offset gains 1 GiB: edgebuild's reader never reads the description,
    LiteRT's flatbuffer verifier does and refuses the file."""
    model = schema.Model.GetRootAs(data, 0)
    return _flipped(data, _offset_field_position(model, _MODEL_DESCRIPTION_FIELD) + 3, 6)


def _weight_shape_grown(data: bytes) -> bytes:
    """A weight tensor's first dimension gains 2^20: its shape claims far more than its buffer holds."""
    tensor = next(tensor for tensor, _ in _constant_tensors(data) if tensor.ShapeLength() == 2)
    return _flipped(data, _vector_start(tensor, _TENSOR_SHAPE_FIELD) + 2, 4)


def _reshape_target_flipped(data: bytes) -> bytes:
    """RESHAPE's target [-1, 144] becomes [-1, 128]: the file parses, the runtime cannot prepare the graph."""
    for tensor, buffer in _constant_tensors(data):
        values = np.frombuffer(buffer.DataAsNumpy().tobytes(), dtype="<i4")
        if tensor.Type() == schema.TensorType.INT32 and 144 in values:
            return _flipped(data, _vector_start(buffer, _BUFFER_DATA_FIELD) + 4 * list(values).index(144), 4)
    raise AssertionError("the float32 model has no RESHAPE target of 144")


NOT_A_MODEL = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "random_bytes": lambda data: np.random.default_rng(0).bytes(len(data)),
    "root_offset_bit_flip": _root_offset_flipped,
    "description_offset_bit_flip": _description_offset_flipped,
    "weight_shape_bigger_than_buffer": _weight_shape_grown,
}


@pytest.mark.parametrize("damage", sorted(NOT_A_MODEL))
def test_a_file_that_is_no_model_is_exit_2_in_one_line(model_file, tmp_path, damage):
    path = tmp_path / f"{damage}.tflite"
    path.write_bytes(NOT_A_MODEL[damage](model_file("float32").read_bytes()))

    result = verify(path, "iphone", "--json", cwd=tmp_path)

    assert_one_line_error(result, 2, path.name, "not a usable TFLite model")
    assert result.stdout == ""


def test_the_runtimes_own_verifier_is_named_when_it_refuses(model_file, tmp_path):
    path = tmp_path / "flipped.tflite"
    path.write_bytes(_description_offset_flipped(model_file("float32").read_bytes()))

    assert_one_line_error(verify(path, "iphone", cwd=tmp_path), 2, "the runtime refuses it")


def test_a_missing_file_is_exit_2(tmp_path):
    assert_one_line_error(verify(tmp_path / "absent.tflite", "iphone", cwd=tmp_path), 2, "absent.tflite")


def test_a_flip_that_breaks_the_graph_is_a_failed_check(model_file, tmp_path):
    path = tmp_path / "reshape_flipped.tflite"
    path.write_bytes(_reshape_target_flipped(model_file("float32").read_bytes()))

    result = verify(path, "iphone", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    failed = {name: check for name, check in checks_of(result).items() if not check["passed"]}
    assert list(failed) == ["runs_in_runtime"]
    assert failed["runs_in_runtime"]["reason"].startswith("allocate_tensors failed: ")


def test_a_model_that_runs_past_the_time_limit_is_a_failed_check(model_file, tmp_path):
    result = verify(model_file("float32"), "iphone", "--json", "--min-seconds", "60", "--timeout", "1", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert checks_of(result)["runs_in_runtime"]["reason"] == "timed out after 1 s"


def _activation_claims_gigabytes(data: bytes) -> bytes:
    """An activation's dimension set to 2^30, as bench/fuzz.py found: a valid model whose tensors claim
    gigabytes; before the ceiling, verify ran it and the runtime allocated 4 GiB."""
    model = schema.Model.GetRootAs(data, 0)
    subgraph = model.Subgraphs(0)
    damaged = bytearray(data)
    for index in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(index)
        if not model.Buffers(tensor.Buffer()).DataLength() and tensor.ShapeLength() == 4:
            struct.pack_into("<i", damaged, _vector_start(tensor, _TENSOR_SHAPE_FIELD) + 4, 2**30)
            return bytes(damaged)
    raise AssertionError("the float32 model has no 4-D activation")


def test_a_model_claiming_gigabytes_fails_its_memory_check_without_being_run(model_file, tmp_path):
    path = tmp_path / "huge.tflite"
    path.write_bytes(_activation_claims_gigabytes(model_file("float32").read_bytes()))
    started = time.monotonic()
    result = verify(path, "iphone", "--json", cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    checks = checks_of(result)
    assert checks["peak_memory_bytes"]["passed"] is False and checks["peak_memory_bytes"]["value"] > 2**30
    assert checks["runs_in_runtime"]["ran"] is False
    assert checks["runs_in_runtime"]["reason"].startswith("not run: it needs an estimated ")
    assert time.monotonic() - started < 30
