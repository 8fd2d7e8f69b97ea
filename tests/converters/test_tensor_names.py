"""`convert.tensor_names: short`: each tensor named after its layer, inputs and outputs as they were;
the same ops, weights and outputs in fewer bytes."""

from __future__ import annotations

import numpy as np

from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE


def test_a_short_name_is_the_first_ops_layer_without_the_model_or_tf_mot_prefix():
    from edgebuild.converters.tensor_names import short_name

    fused = ("efficientnet_lite/quant_block0_0_relu/Relu6;efficientnet_lite/quant_block0_0_bn/FusedBatchNormV3;"
             "efficientnet_lite/quant_block0_0_dw/depthwise")
    assert short_name(fused) == "block0_0_relu"
    assert short_name("sequential/dense/MatMul;sequential/dense/BiasAdd") == "dense"
    assert short_name("arith.constant") == "arith.constant"
    assert short_name("model/Mean") == "model/Mean"  # no layer between the model and the op: kept


def _names_ops_weights(model_bytes: bytes):
    from edgebuild.converters.flatbuffer import read_model, unpack_model

    subgraph = unpack_model(model_bytes).subgraphs[0]
    names = [tensor.name.decode() for tensor in subgraph.tensors]
    io = {int(index) for index in [*subgraph.inputs, *subgraph.outputs]}
    info = read_model(model_bytes)
    return names, io, [op.name for op in info.ops], [array.tobytes() for _, array in info.weights()]


def _input_like(model_bytes: bytes) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter

    detail = Interpreter(model_content=model_bytes).get_input_details()[0]
    random = np.random.default_rng(0)
    if np.dtype(detail["dtype"]) == np.int8:
        return random.integers(-128, 128, detail["shape"], dtype=np.int8)
    return random.random(detail["shape"]).astype(detail["dtype"])


def test_short_names_keep_the_ops_weights_io_names_and_outputs(int8_cnn, run_tflite):
    from edgebuild.converters.tensor_names import with_short_names

    full = int8_cnn.model_bytes
    short = with_short_names(full)
    full_names, io, full_ops, full_weights = _names_ops_weights(full)
    short_names, _, short_ops, short_weights = _names_ops_weights(short)
    assert len(short) < len(full)
    assert short_ops == full_ops and short_weights == full_weights
    assert [short_names[i] for i in sorted(io)] == [full_names[i] for i in sorted(io)]
    inner = [name for index, name in enumerate(short_names) if index not in io]
    assert len(set(short_names)) == len(short_names) and not any(";" in name for name in inner)
    sample = _input_like(full)
    assert np.array_equal(run_tflite(short, [sample])[0], run_tflite(full, [sample])[0])


def test_a_build_with_short_names_publishes_the_same_model_in_fewer_bytes(tiny_build, run_tflite):
    """The tiny build again from its cache with `tensor_names: short`: only publishing differs."""
    recipe = tiny_build / "tiny_short_names.yaml"
    recipe.write_text(TINY_RECIPE.replace("  representative_samples: 50\n",
                                          "  representative_samples: 50\n  tensor_names: short\n"))
    result = run_edgebuild("build", recipe.name, "--profile", "android-flagship", "--out", "out-short-names",
                           cwd=tiny_build)
    assert result.returncode == 0, result.stderr[-3000:]
    full = (tiny_build / "out" / "tiny" / "android-flagship" / "model.tflite").read_bytes()
    short = (tiny_build / "out-short-names" / "tiny" / "android-flagship" / "model.tflite").read_bytes()
    full_names, io, full_ops, full_weights = _names_ops_weights(full)
    short_names, _, short_ops, short_weights = _names_ops_weights(short)
    assert len(short) < len(full) and short_ops == full_ops and short_weights == full_weights
    assert all("/" not in name for index, name in enumerate(short_names) if index not in io)
    assert any("/" in name for index, name in enumerate(full_names) if index not in io)
    sample = _input_like(full)
    assert np.array_equal(run_tflite(short, [sample])[0], run_tflite(full, [sample])[0])
