from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest
from ai_edge_litert import schema_py_generated as schema

from edgebuild.converters.arena import arena_estimate_bytes
from edgebuild.converters.flatbuffer import read_model, read_model_file
from edgebuild.base.errors import BadInput


@pytest.fixture(scope="session")
def custom_op_model(tf, save_tflite):
    """BesselI0e has no TFLite builtin: with allow_custom_ops it becomes a custom op."""

    @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
    def scaled_bessel(x):
        return tf.math.bessel_i0e(x) * 2.0

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [scaled_bessel.get_concrete_function()], scaled_bessel
    )
    converter.allow_custom_ops = True
    return save_tflite(converter.convert(), "custom_op")


@pytest.fixture(scope="session")
def known_dense(tf, keras, save_tflite):
    """One Dense layer whose kernel and bias are known numbers."""
    model = keras.Sequential([keras.layers.Input((4,), name="x"), keras.layers.Dense(3, name="known")])
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    model.get_layer("known").set_weights([kernel, np.array([1.0, 2.0, 3.0], np.float32)])
    return save_tflite(tf.lite.TFLiteConverter.from_keras_model(model).convert(), "known_dense"), kernel


def _aligned(nbytes: int) -> int:
    return -(-nbytes // 64) * 64


def _raw_constant_elements(model_bytes: bytes) -> int:
    """Elements in subgraph 0's buffer-backed tensors, counted with the generated accessors."""
    bytes_per_element = {schema.TensorType.FLOAT32: 4, schema.TensorType.INT32: 4}
    model = schema.Model.GetRootAs(model_bytes, 0)
    subgraph = model.Subgraphs(0)
    return sum(
        model.Buffers(subgraph.Tensors(i).Buffer()).DataLength() // bytes_per_element[subgraph.Tensors(i).Type()]
        for i in range(subgraph.TensorsLength())
    )


def test_float32_model_ops_parameters_and_identity(float32_cnn):
    model_bytes = float32_cnn.model_bytes
    info = read_model_file(float32_cnn.path)

    assert {"CONV_2D", "FULLY_CONNECTED"} <= set(info.op_counts)
    assert info.float_ops()
    assert info.custom_ops() == ()
    assert info.size_bytes == len(model_bytes)
    assert info.sha256 == hashlib.sha256(model_bytes).hexdigest()
    assert info.subgraph_count == 1
    assert [(t.shape, t.dtype) for t in info.inputs] == [((1, 8, 8, 1), "float32")]
    assert [(t.shape, t.dtype) for t in info.outputs] == [((1, 3), "float32")]
    assert info.parameter_count == _raw_constant_elements(model_bytes)
    # Kernels and (non-zero) biases are the float constants; the rest are int32 shape constants.
    float_constants = sum(int(np.prod(t.shape)) for t in info.tensors if t.is_constant and t.dtype == "float32")
    assert float_constants == float32_cnn.keras_model.count_params()
    assert {"min_runtime_version", "CONVERSION_METADATA"} <= set(info.metadata)


def test_full_int8_model_has_int8_io_and_no_float_ops(int8_cnn):
    info = read_model(int8_cnn.model_bytes)

    assert [t.dtype for t in (*info.inputs, *info.outputs)] == ["int8", "int8"]
    assert info.float_ops() == ()
    assert info.inputs[0].quantization["scale"][0] > 0
    conv, conv_weights = next((op, w) for op, w in info.weights() if op.name == "CONV_2D")
    assert conv_weights.dtype == np.int8
    weight_quantization = info.tensors[conv.inputs[1]].quantization
    assert len(weight_quantization["scale"]) == conv_weights.shape[0]  # per output channel
    assert weight_quantization["axis"] == 0


def test_float16_model_stores_float16_weights(float16_cnn):
    info = read_model(float16_cnn.model_bytes)

    weights = info.weights()
    assert [op.name for op, _ in weights] == ["CONV_2D", "FULLY_CONNECTED"]
    assert {array.dtype for _, array in weights} == {np.dtype(np.float16)}
    assert "DEQUANTIZE" in info.op_counts


def test_two_inputs_two_outputs_match_the_interpreter(two_in_two_out):
    from ai_edge_litert.interpreter import Interpreter

    info = read_model(two_in_two_out.model_bytes)
    interpreter = Interpreter(model_content=two_in_two_out.model_bytes)

    assert {t.index for t in info.inputs} == {d["index"] for d in interpreter.get_input_details()}
    assert {t.index for t in info.outputs} == {d["index"] for d in interpreter.get_output_details()}
    assert sorted(t.shape for t in info.inputs) == [(1, 5), (1, 6)]
    assert sorted(t.shape for t in info.outputs) == [(1, 2), (1, 7)]


def test_custom_op_is_named(custom_op_model):
    info = read_model_file(custom_op_model)

    assert info.custom_ops() == ("BesselI0e",)
    assert [op.is_custom for op in info.ops if op.name == "BesselI0e"] == [True]


def test_weights_returns_the_dense_kernel_as_stored(known_dense):
    path, kernel = known_dense
    [(op, weights)] = read_model_file(path).weights()

    assert op.name == "FULLY_CONNECTED"
    np.testing.assert_array_equal(weights, kernel.T)  # TFLite stores [out, in]


def test_old_and_new_operator_code_fields(float32_cnn, unpack_model, pack_model):
    model = unpack_model(float32_cnn.model_bytes)
    fully_connected, gelu = schema.BuiltinOperator.FULLY_CONNECTED, schema.BuiltinOperator.GELU
    for op_code in model.operatorCodes:
        if op_code.builtinCode == fully_connected:
            op_code.builtinCode = 0  # files from before the int32 field existed
        else:
            op_code.deprecatedBuiltinCode, op_code.builtinCode = 127, gelu  # codes above 127
    names = set(read_model(pack_model(model)).op_counts)

    assert names == {"FULLY_CONNECTED", "GELU"}


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:10], id="10-bytes"),
        pytest.param(lambda data: np.random.default_rng(3).bytes(4096), id="random-4k"),
        pytest.param(lambda data: data[:4] + b"XXXX" + data[8:], id="wrong-identifier"),
    ],
)
def test_garbage_is_refused_with_bad_input(float32_cnn, damage):
    with pytest.raises(BadInput, match=r"^upload\.tflite: not a usable TFLite model: "):
        read_model(damage(float32_cnn.model_bytes), source="upload.tflite")


def _parse_or_refuse(data: bytes) -> None:
    """Anything read_model accepts must also survive every derived query."""
    try:
        info = read_model(data)
        arena_estimate_bytes(info)
        info.float_ops()
        _ = info.parameter_count, info.op_counts, info.custom_ops()
        info.weights()
    except BadInput:
        pass


def test_truncated_and_bit_flipped_models_parse_or_raise_bad_input(float32_cnn):
    model_bytes = float32_cnn.model_bytes
    rng = np.random.default_rng(2024)
    _parse_or_refuse(model_bytes[: len(model_bytes) // 2])
    for _ in range(50):
        flipped = bytearray(model_bytes)
        flipped[rng.integers(len(flipped))] ^= 1 << int(rng.integers(8))
        _parse_or_refuse(bytes(flipped))


def test_constant_claiming_more_than_its_buffer_is_named(float32_cnn, unpack_model, pack_model):
    model = unpack_model(float32_cnn.model_bytes)
    subgraph = model.subgraphs[0]
    weights = next(t for t in subgraph.tensors if len(t.shape) == 2 and model.buffers[t.buffer].data is not None)
    held_bytes = len(model.buffers[weights.buffer].data)
    weights.shape = [weights.shape[0], weights.shape[1] * 10]

    expected = f"tensor '{weights.name.decode()}' claims {held_bytes * 10} bytes but its buffer holds {held_bytes}"
    with pytest.raises(BadInput, match=expected):
        read_model(pack_model(model))


def test_structural_damage_is_named(float32_cnn, unpack_model, pack_model):
    no_subgraphs = unpack_model(float32_cnn.model_bytes)
    no_subgraphs.subgraphs = []
    external_past_the_end = unpack_model(float32_cnn.model_bytes)
    weights = next(b for b in external_past_the_end.buffers if b.data is not None and len(b.data))
    weights.data, weights.offset, weights.size = None, 1 << 20, 64

    with pytest.raises(BadInput, match="no subgraphs"):
        read_model(pack_model(no_subgraphs))
    with pytest.raises(BadInput, match="lies outside the file"):
        read_model(pack_model(external_past_the_end))


def test_external_buffers_read_from_file_offsets(float32_cnn, with_external_buffers, run_tflite):
    inline = read_model(float32_cnn.model_bytes)
    external_bytes = with_external_buffers(float32_cnn.model_bytes)
    external = read_model(external_bytes)
    image = np.linspace(-1, 1, 64, dtype=np.float32).reshape(1, 8, 8, 1)

    assert [(t.name, t.data_bytes) for t in external.tensors] == [(t.name, t.data_bytes) for t in inline.tensors]
    for (_, external_weights), (_, inline_weights) in zip(external.weights(), inline.weights(), strict=True):
        np.testing.assert_array_equal(external_weights, inline_weights)
    assert external.metadata == inline.metadata
    np.testing.assert_array_equal(
        run_tflite(external_bytes, [image])[0], run_tflite(float32_cnn.model_bytes, [image])[0]
    )


def test_unreadable_file_is_bad_input(tmp_path):
    with pytest.raises(BadInput, match="cannot read model file"):
        read_model_file(tmp_path / "missing.tflite")


def test_arena_estimate_of_a_chain_matches_hand_count(dense_chain):
    info = read_model(dense_chain.model_bytes)
    assert [op.name for op in info.ops] == ["FULLY_CONNECTED"] * 3

    # float32, batch 1, each tensor rounded up to 64 bytes: 40 → 192, 100 → 448, 20 → 128, 3 → 64.
    # Live at op 0: input + wide = 640; op 1: wide + narrow = 576; op 2: narrow + scores = 192.
    assert arena_estimate_bytes(info) == 640


@pytest.mark.parametrize("fixture_name", ["float32_cnn", "int8_cnn", "two_in_two_out"])
def test_arena_estimate_lies_between_the_floor_and_the_total(request, fixture_name):
    info = read_model(request.getfixturevalue(fixture_name).model_bytes)

    def activation_bytes(indices):
        activations = [info.tensors[i] for i in set(indices) if i >= 0 and not info.tensors[i].is_constant]
        return sum(_aligned(tensor.nbytes) for tensor in activations)

    floor = max(activation_bytes((*op.inputs, *op.outputs)) for op in info.ops)
    total = activation_bytes(range(len(info.tensors)))
    assert floor <= arena_estimate_bytes(info) <= total
    assert floor > 0


def test_reading_models_never_imports_tensorflow():
    script = (
        "import sys, edgebuild.converters.flatbuffer, edgebuild.converters.metadata;"
        "sys.exit('tensorflow' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0
