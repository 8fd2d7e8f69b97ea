"""Read any .tflite file into plain facts (tensors, ops, metadata) without TensorFlow.

The release gate runs this on files it did not build, so every malformed input becomes one
`BadInput`, never a crash, a hang or a huge allocation.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from os import PathLike

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from edgebuild.base.errors import BadInput

FILE_IDENTIFIER = b"TFL3"  # bytes 4:8 of every .tflite
# Buffer.offset 0 means "data inline"; 1 is the converter's placeholder while it serializes;
# from 2 on it is a file offset to data kept after the flatbuffer (models over 2 GB).
FIRST_EXTERNAL_OFFSET = 2
_SCHEMA_VERSION = 3
_OFFSET_BYTES = 4  # a vector of tables stores one 4-byte offset per element

# What the flatbuffers runtime raises when it walks garbage: struct.error/IndexError past the end,
# TypeError before the start ("bad number -3442 for type uint32"), ValueError from numpy views.
_FLATBUFFER_ERRORS = (
    IndexError,
    struct.error,
    ValueError,
    TypeError,
    AttributeError,
    OverflowError,
)

_DTYPE_BY_TYPE_CODE = {
    code: name.lower() for name, code in vars(schema.TensorType).items() if not name.startswith("_")
}
# string, resource and variant tensors are absent: their size is known only at run time.
_ELEMENT_BITS = {
    "float32": 32, "float16": 16, "bfloat16": 16, "float64": 64,
    "int2": 2, "int4": 4, "uint4": 4, "int8": 8, "uint8": 8, "int16": 16, "uint16": 16,
    "int32": 32, "uint32": 32, "int64": 64, "uint64": 64, "bool": 8,
    "complex64": 64, "complex128": 128, "float8_e4m3fn": 8, "float8_e5m2": 8,
}
_NUMPY_DTYPES = {
    "float32", "float16", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
    "int64", "uint64", "bool", "complex64", "complex128",
}
_FLOAT_ACTIVATION_DTYPES = {"float32", "float16"}
_OP_NAME_BY_CODE = {
    code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}


class _Malformed(Exception):
    """A structural problem found while parsing; `read_model` adds the source name."""


@dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    is_constant: bool
    data_bytes: int
    quantization: dict | None
    is_sparse: bool = False

    @property
    def nbytes(self) -> int:
        """Bytes this tensor occupies at run time, dynamic (-1) or empty (0) dims counted as 1."""
        bits = _ELEMENT_BITS.get(self.dtype)
        if bits is None:
            return self.data_bytes
        elements = math.prod(max(dim, 1) for dim in self.shape)
        return (elements * bits + 7) // 8


@dataclass(frozen=True)
class OpInfo:
    index: int
    name: str
    is_custom: bool
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass(frozen=True)
class ModelInfo:
    """Subgraph 0 of a .tflite (the graph an interpreter runs), plus file-wide facts."""

    size_bytes: int
    sha256: str
    subgraph_count: int
    tensors: tuple[TensorInfo, ...]
    ops: tuple[OpInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    metadata: dict[str, bytes]
    # Read-only uint8 views into the model bytes, by tensor index, for `weights()`.
    constant_data: dict[int, np.ndarray] = field(default_factory=dict, repr=False, compare=False)

    @property
    def op_counts(self) -> dict[str, int]:
        return dict(Counter(op.name for op in self.ops))

    @property
    def parameter_count(self) -> int:
        return sum(math.prod(t.shape) for t in self.tensors if t.is_constant)

    def float_ops(self) -> tuple[OpInfo, ...]:
        """Ops that compute in floating point: a float activation goes in or comes out."""
        return tuple(
            op for op in self.ops
            if any(
                not self.tensors[i].is_constant and self.tensors[i].dtype in _FLOAT_ACTIVATION_DTYPES
                for i in (*op.inputs, *op.outputs) if i >= 0
            )
        )

    def custom_ops(self) -> tuple[str, ...]:
        return tuple(sorted({op.name for op in self.ops if op.is_custom}))

    def weights(
        self, op_names: Collection[str] = ("CONV_2D", "FULLY_CONNECTED")
    ) -> list[tuple[OpInfo, np.ndarray]]:
        """The constant weight tensor (input 1) of each named op, as read-only arrays.

        Float16 models keep weights as float16 constants behind a DEQUANTIZE op; those are
        followed one hop so the stored values are returned, not skipped.
        """
        producer_by_tensor = {out: op for op in self.ops for out in op.outputs}
        found = []
        for op in self.ops:
            if op.name in op_names and len(op.inputs) > 1 and op.inputs[1] >= 0:
                tensor = self._stored_tensor(self.tensors[op.inputs[1]], producer_by_tensor)
                if tensor.is_constant:
                    found.append((op, self._decode(tensor)))
        return found

    def _stored_tensor(self, tensor: TensorInfo, producer_by_tensor: dict[int, OpInfo]) -> TensorInfo:
        """The constant a DEQUANTIZE turns into `tensor`, or `tensor` itself."""
        producer = producer_by_tensor.get(tensor.index)
        if tensor.is_constant or producer is None or producer.name != "DEQUANTIZE" or not producer.inputs:
            return tensor
        source = producer.inputs[0]
        return self.tensors[source] if source >= 0 else tensor

    def _decode(self, tensor: TensorInfo) -> np.ndarray:
        if tensor.is_sparse or tensor.dtype not in _NUMPY_DTYPES:
            kind = "sparse" if tensor.is_sparse else tensor.dtype
            raise BadInput(f"tensor {tensor.name!r} is {kind}; weights() decodes dense numpy dtypes only")
        dtype = np.dtype(tensor.dtype).newbyteorder("<")
        data = self.constant_data[tensor.index]
        return np.frombuffer(data, dtype=dtype, count=math.prod(tensor.shape)).reshape(tensor.shape)


def read_model(data: bytes, source: str = "model") -> ModelInfo:
    """Parse a .tflite flatbuffer; anything malformed raises `BadInput` naming `source`."""
    with _refusing_malformed(source):
        return _parse_model(data)


def unpack_model(data: bytes, source: str = "model") -> schema.ModelT:
    """The whole model in the schema's object API, for rewriting it; malformed input raises `BadInput`.

    Unpacking walks fields `read_model` never reads (op options, signatures), so it needs the
    same guard: a damaged op option otherwise surfaces as a bare struct.error.
    """
    read_model(data, source)
    with _refusing_malformed(source):
        return schema.ModelT.InitFromPackedBuf(data, 0)


def pack_model(model: schema.ModelT) -> bytes:
    """The object-API model as a .tflite flatbuffer (the inverse of unpack_model)."""
    import flatbuffers

    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), file_identifier=FILE_IDENTIFIER)
    return bytes(builder.Output())


@contextmanager
def _refusing_malformed(source: str) -> Iterator[None]:
    try:
        yield
    except _Malformed as error:
        raise BadInput(f"{source}: not a usable TFLite model: {error}") from error
    except _FLATBUFFER_ERRORS as error:
        reason = "damaged flatbuffer, an offset or length points outside the file"
        raise BadInput(f"{source}: not a usable TFLite model: {reason}") from error


def read_model_file(path: str | PathLike) -> ModelInfo:
    try:
        with open(path, "rb") as model_file:
            data = model_file.read()
    except OSError as error:
        raise BadInput(f"{path}: cannot read model file: {error.strerror or error}") from error
    return read_model(data, source=str(path))


def _parse_model(data: bytes) -> ModelInfo:
    if len(data) < 8:
        raise _Malformed("file is empty" if not data else f"only {len(data)} bytes long")
    if bytes(data[4:8]) != FILE_IDENTIFIER:
        raise _Malformed(f"no TFL3 file identifier (bytes 4:8 are {bytes(data[4:8])!r})")
    model = schema.Model.GetRootAs(data, 0)
    if model.Version() != _SCHEMA_VERSION:
        raise _Malformed(f"schema version {model.Version()}, expected {_SCHEMA_VERSION}")
    buffers = [_buffer_data(model, i, data) for i in range(_count(model.BuffersLength(), "buffer", data))]
    op_code_count = _count(model.OperatorCodesLength(), "operator code", data)
    op_names = [_op_name(model.OperatorCodes(i)) for i in range(op_code_count)]
    subgraph_count = _count(model.SubgraphsLength(), "subgraph", data)
    if subgraph_count == 0:
        raise _Malformed("no subgraphs")
    # Every subgraph is checked so a broken control-flow body is caught too; subgraph 0 is the model.
    subgraphs = [_parse_subgraph(model.Subgraphs(i), buffers, op_names, data) for i in range(subgraph_count)]
    tensors, ops, inputs, outputs, constant_data = subgraphs[0]
    return ModelInfo(
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        subgraph_count=subgraph_count,
        tensors=tensors,
        ops=ops,
        inputs=tuple(tensors[i] for i in inputs),
        outputs=tuple(tensors[i] for i in outputs),
        metadata=_metadata(model, buffers, data),
        constant_data=constant_data,
    )


def _count(length: int, what: str, data: bytes) -> int:
    """A vector length, refused when the file is too small to hold that many elements."""
    if length * _OFFSET_BYTES > len(data):
        raise _Malformed(f"{what} count {length} exceeds what a {len(data)}-byte file can hold")
    return length


def _buffer_data(model: schema.Model, index: int, data: bytes) -> np.ndarray:
    buffer = model.Buffers(index)
    if buffer.Offset() >= FIRST_EXTERNAL_OFFSET:
        start, size = buffer.Offset(), buffer.Size()
        if start + size > len(data):
            raise _Malformed(f"buffer {index} lies outside the file (bytes {start}:{start + size} of {len(data)})")
        return np.frombuffer(data, dtype=np.uint8, count=size, offset=start)
    if buffer.DataIsNone():
        return np.empty(0, dtype=np.uint8)
    # frombuffer refuses a length that runs past the end of the file instead of allocating it.
    return buffer.DataAsNumpy()


def _op_name(op_code: schema.OperatorCode) -> tuple[str, bool]:
    """The op's name and whether it is a custom op."""
    # Codes above 127 do not fit the old int8 field, which then holds 127; old files leave the
    # new int32 field at 0. The larger of the two is the real code either way.
    code = max(op_code.DeprecatedBuiltinCode(), op_code.BuiltinCode())
    if code == schema.BuiltinOperator.CUSTOM:
        custom_code = op_code.CustomCode()
        if not custom_code:
            raise _Malformed("a custom operator has no custom_code")
        return _text(custom_code), True
    return _OP_NAME_BY_CODE.get(code, f"UNKNOWN_BUILTIN_{code}"), False


def _parse_subgraph(
    subgraph: schema.SubGraph, buffers: list[np.ndarray], op_names: list[tuple[str, bool]], data: bytes
) -> tuple[tuple[TensorInfo, ...], tuple[OpInfo, ...], tuple[int, ...], tuple[int, ...], dict[int, np.ndarray]]:
    tensor_count = _count(subgraph.TensorsLength(), "tensor", data)
    constant_data: dict[int, np.ndarray] = {}
    tensors = []
    for index in range(tensor_count):
        tensor, payload = _parse_tensor(subgraph.Tensors(index), index, buffers)
        tensors.append(tensor)
        if tensor.is_constant:
            constant_data[index] = payload
    ops = tuple(
        _parse_op(subgraph.Operators(i), i, op_names, tensor_count, data)
        for i in range(_count(subgraph.OperatorsLength(), "operator", data))
    )
    inputs = _tensor_indices(subgraph.InputsAsNumpy(), tensor_count, "graph input", allow_absent=False)
    outputs = _tensor_indices(subgraph.OutputsAsNumpy(), tensor_count, "graph output", allow_absent=False)
    return tuple(tensors), ops, inputs, outputs, constant_data


def _parse_tensor(tensor: schema.Tensor, index: int, buffers: list[np.ndarray]) -> tuple[TensorInfo, np.ndarray]:
    name = _text(tensor.Name())
    dtype = _DTYPE_BY_TYPE_CODE.get(tensor.Type())
    if dtype is None:
        raise _Malformed(f"tensor {name!r} has unknown type code {tensor.Type()}")
    if tensor.ExternalBuffer() != 0:
        raise _Malformed(f"tensor {name!r} keeps its data in a separate file; only self-contained models work")
    buffer_index = tensor.Buffer()
    if buffer_index >= len(buffers):
        raise _Malformed(f"tensor {name!r} uses buffer {buffer_index} of {len(buffers)}")
    payload = buffers[buffer_index]
    shape = _int_tuple(tensor.ShapeAsNumpy())
    is_sparse = tensor.Sparsity() is not None
    info = TensorInfo(
        index=index,
        name=name,
        shape=shape,
        dtype=dtype,
        is_constant=payload.size > 0,
        data_bytes=int(payload.size),
        quantization=_quantization(tensor.Quantization()),
        is_sparse=is_sparse,
    )
    if info.is_constant and not is_sparse:
        _check_constant_size(info)
    return info, payload


def _check_constant_size(tensor: TensorInfo) -> None:
    if any(dim < 0 for dim in tensor.shape):
        raise _Malformed(f"constant tensor {tensor.name!r} has a negative dimension {tensor.shape}")
    bits = _ELEMENT_BITS.get(tensor.dtype)
    if bits is None:
        return
    claimed_bytes = (math.prod(tensor.shape) * bits + 7) // 8
    if claimed_bytes > tensor.data_bytes:
        raise _Malformed(
            f"tensor {tensor.name!r} claims {claimed_bytes} bytes but its buffer holds {tensor.data_bytes}"
        )


def _quantization(parameters: schema.QuantizationParameters | None) -> dict | None:
    if parameters is None or parameters.ScaleLength() == 0:
        return None
    zero_points = parameters.ZeroPointAsNumpy()
    return {
        "scale": [float(scale) for scale in parameters.ScaleAsNumpy()],
        "zero_point": [] if isinstance(zero_points, int) else [int(z) for z in zero_points],
        "axis": parameters.QuantizedDimension(),
    }


def _parse_op(
    operator: schema.Operator, index: int, op_names: list[tuple[str, bool]], tensor_count: int, data: bytes
) -> OpInfo:
    op_code_index = operator.OpcodeIndex()
    if op_code_index >= len(op_names):
        raise _Malformed(f"operator {index} uses operator code {op_code_index} of {len(op_names)}")
    # Custom options too big for the flatbuffer sit after it, at a file offset.
    options_start, options_size = operator.LargeCustomOptionsOffset(), operator.LargeCustomOptionsSize()
    if options_start >= FIRST_EXTERNAL_OFFSET and options_start + options_size > len(data):
        raise _Malformed(f"operator {index}'s custom options lie outside the file")
    name, is_custom = op_names[op_code_index]
    return OpInfo(
        index=index,
        name=name,
        is_custom=is_custom,
        inputs=_tensor_indices(operator.InputsAsNumpy(), tensor_count, f"operator {index} input"),
        outputs=_tensor_indices(operator.OutputsAsNumpy(), tensor_count, f"operator {index} output"),
    )


def _tensor_indices(
    values: np.ndarray | int, tensor_count: int, what: str, allow_absent: bool = True
) -> tuple[int, ...]:
    indices = _int_tuple(values)
    lowest = -1 if allow_absent else 0
    for index in indices:
        if not lowest <= index < tensor_count:
            raise _Malformed(f"{what} refers to tensor {index} of {tensor_count}")
    return indices


def _text(raw: bytes | None) -> str:
    # LiteRT never decodes names, so a name that is not UTF-8 is no reason to refuse a model.
    return (raw or b"").decode("utf-8", errors="backslashreplace")


def _int_tuple(values: np.ndarray | int) -> tuple[int, ...]:
    # Generated accessors return the int 0, not an empty array, when a vector is absent.
    return () if isinstance(values, int) else tuple(int(v) for v in values)


def _metadata(model: schema.Model, buffers: list[np.ndarray], data: bytes) -> dict[str, bytes]:
    entries = {}
    for i in range(_count(model.MetadataLength(), "metadata", data)):
        entry = model.Metadata(i)
        name = _text(entry.Name())
        if entry.Buffer() >= len(buffers):
            raise _Malformed(f"metadata {name!r} uses buffer {entry.Buffer()} of {len(buffers)}")
        entries[name] = buffers[entry.Buffer()].tobytes()
    return entries
