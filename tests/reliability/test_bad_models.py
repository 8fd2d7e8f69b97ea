"""Model files that are damaged, forged or able to run code are refused in one line naming the file;
nothing they carry is executed."""

from __future__ import annotations

import base64
import json
import marshal
import zipfile
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from cli_runner import run_edgebuild
from reliability_checks import assert_refused
from tiny_builds import write_recipe

_TENSOR_SHAPE_FIELD = 4  # vtable offset of Tensor.shape


def _flipped(data: bytes, position: int, bit: int) -> bytes:
    damaged = bytearray(data)
    damaged[position] ^= 1 << bit
    return bytes(damaged)


def _weight_claims_more_than_its_buffer(data: bytes) -> bytes:
    """A constant 4-D kernel's second dimension gains 2^12: its shape claims far more than its buffer holds."""
    model = schema.Model.GetRootAs(data, 0)
    subgraph = model.Subgraphs(0)
    for index in range(subgraph.TensorsLength()):
        tensor = subgraph.Tensors(index)
        if model.Buffers(tensor.Buffer()).DataLength() and tensor.ShapeLength() == 4:
            shape_at = tensor._tab.Vector(tensor._tab.Offset(_TENSOR_SHAPE_FIELD))
            return _flipped(data, shape_at + 4 + 1, 4)
    raise AssertionError("the tiny artifact has no constant 4-D kernel")


DAMAGE = {
    "empty": lambda data: b"",
    "truncated": lambda data: data[: len(data) // 2],
    "random_bytes": lambda data: np.random.default_rng(7).bytes(len(data)),
    "root_offset_bit_flip": lambda data: _flipped(data, 2, 7),
    "png_not_flatbuffer": lambda data: b"\x89PNG\r\n\x1a\n" + data[8:],
    "tensor_larger_than_buffer": _weight_claims_more_than_its_buffer,
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_tflite_is_refused_by_inspect(tiny_build, tmp_path, damage):
    artifact = (tiny_build / "out/tiny/android-flagship/model.tflite").read_bytes()
    (tmp_path / f"{damage}.tflite").write_bytes(DAMAGE[damage](artifact))
    result = run_edgebuild("inspect", f"{damage}.tflite", cwd=tmp_path)
    assert_refused(result, 2, f"{damage}.tflite", "not a usable TFLite model", root=tmp_path)
    assert result.stdout == ""


def _keras_archive(path: Path, layer: dict) -> None:
    """A .keras file (zip of config.json, metadata.json, weights) whose model is input → `layer`."""
    layers = [{"module": "keras.layers", "class_name": "InputLayer", "name": "image", "inbound_nodes": [],
               "config": {"batch_input_shape": [None, 8, 8, 1], "dtype": "float32", "name": "image"}},
              {**layer, "name": "head", "inbound_nodes": [[["image", 0, 0, {}]]]}]
    config = {"module": "tf_keras.src.engine.functional", "class_name": "Functional", "registered_name": "Functional",
              "config": {"name": "model", "layers": layers, "input_layers": [["image", 0, 0]],
                         "output_layers": [["head", 0, 0]]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "2.21.0"}))
        archive.writestr("config.json", json.dumps(config))
        archive.writestr("model.weights.h5", b"")


def _convert(root: Path, model: str, *extra: str):
    return run_edgebuild("convert", model, "--profile", "android-flagship", "--data", "sklearn:digits", "--out", "out",
                         *extra, cwd=root)


def test_keras_file_with_a_python_lambda_is_refused_and_never_runs(tmp_path):
    marker = tmp_path / "ran"
    payload = eval(f"lambda x: (open({str(marker)!r}, 'w').close(), x)[1]")  # runs if Keras ever calls it
    function = base64.b64encode(marshal.dumps(payload.__code__)).decode()
    _keras_archive(tmp_path / "lambda.keras", {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"name": "head", "function": [function, None, None], "function_type": "lambda",
                   "module": "__main__", "output_shape": None, "output_shape_type": "raw", "arguments": {}}})
    result = _convert(tmp_path, "lambda.keras")
    assert_refused(result, 2, "lambda.keras", "cannot load model", "Lambda", root=tmp_path)
    assert not marker.exists()


def test_damaged_keras_file_is_named(tmp_path):
    (tmp_path / "damaged.keras").write_bytes(b"PK\x03\x04" + bytes(200))
    assert_refused(_convert(tmp_path, "damaged.keras"), 2, "damaged.keras", "cannot load model", root=tmp_path)


def test_saved_model_folder_without_the_trust_flag_is_refused_before_loading(tmp_path):
    marker = tmp_path / "ran"
    (tmp_path / "exported").mkdir()
    (tmp_path / "exported" / "saved_model.pb").write_bytes(f"never parsed: {marker}".encode())
    result = _convert(tmp_path, "exported")
    assert_refused(result, 2, "exported", "can run code", "--trust-unsafe-format", root=tmp_path)


def test_h5_teacher_without_the_trust_flag_is_refused(tmp_path):
    (tmp_path / "teacher.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(100))
    write_recipe(tmp_path, teacher={"path": "teacher.h5"})
    result = run_edgebuild("build", "recipe.yaml", "--profile", "android-flagship", "--out", "out", cwd=tmp_path)
    assert_refused(result, 2, "teacher.h5", "can run code", "teacher.trust_unsafe_format", root=tmp_path)
