"""The precision registry: one entry per precision a recipe may ask for and a profile may run.

An entry is data: how the TFLite converter is set for it, which I/O dtypes a model of it can
have, whether it needs calibration data, whether QAT's fake-quantized model is its conversion
source, and how a file of it is recognised from its tensors (converters/precision.py). Adding a
precision is one `_add(...)` here; the converter, the gate and the profile schema read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator

from edgebuild.base.registry import Registry


@dataclass(frozen=True)
class TensorFacts:
    """What a file shows of its precision: dtypes of the weighted ops' weights and data inputs
    (the graph's inputs when it has no weighted op), and of every constant tensor."""

    weights: frozenset[str]
    activations: frozenset[str]
    constants: frozenset[str]


@dataclass(frozen=True)
class PrecisionSpec:
    name: str
    description: str
    io_dtypes: tuple[str, ...]  # the I/O dtypes a model of this precision can have
    needs_calibration: bool  # a representative dataset drawn from the training split
    converts_qat_model: bool  # its conversion source is the QAT stage's model when there is one
    full_integer: bool  # every op runs in integers: an integer-only accelerator can run it all
    # TFLiteConverter settings: optimizations=[DEFAULT]; target_spec.supported_types and
    # supported_ops (by name); inference_input/output_type set to the I/O dtype when it is an integer.
    optimize: bool
    supported_types: tuple[str, ...] = ()
    supported_ops: tuple[str, ...] = ()
    # Recognising a file: its weight and activation dtypes fall within these, and, when set,
    # `marker_constant` is the dtype of one of its constants (float16 weights are stored that way).
    weight_dtypes: frozenset[str] = frozenset()
    activation_dtypes: frozenset[str] = frozenset()
    marker_constant: str | None = None
    # Set: the converter makes the float32 file, then litert-quantizer applies this recipe (by its
    # function name in `litert_quantizer.recipe`) to it (converters/litert_quant.py).
    quantizer_recipe: str | None = None

    def matches(self, facts: TensorFacts) -> bool:
        return (facts.weights <= self.weight_dtypes and facts.activations <= self.activation_dtypes
                and (self.marker_constant is None or self.marker_constant in facts.constants))


PRECISIONS: Registry[PrecisionSpec] = Registry("precision")
_INT8 = frozenset({"int8", "uint8"})
_FLOAT = frozenset({"float32"})


def _add(spec: PrecisionSpec) -> None:
    PRECISIONS.add(spec.name, spec)


# Recognised in this order: the first entry whose dtypes a file's tensors fall within names it.
_add(PrecisionSpec("int8", "full-integer int8 weights and activations", ("int8", "uint8", "float32"),
                   needs_calibration=True, converts_qat_model=True, full_integer=True, optimize=True,
                   supported_ops=("TFLITE_BUILTINS_INT8",), weight_dtypes=_INT8, activation_dtypes=_INT8))
_add(PrecisionSpec("dynamic_range", "int8 weights, float activations quantized on the fly", ("float32",),
                   needs_calibration=False, converts_qat_model=False, full_integer=False, optimize=True,
                   weight_dtypes=_INT8, activation_dtypes=_FLOAT))
_add(PrecisionSpec("int16x8", "int8 weights, int16 activations (the converter's 16x8 mode)", ("float32",),
                   needs_calibration=True, converts_qat_model=False, full_integer=True, optimize=True,
                   supported_ops=("EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8",),
                   weight_dtypes=_INT8, activation_dtypes=frozenset({"int16"})))
# litert-quantizer stores int4 weights as constants DEQUANTIZEd into float ops (checked).
_add(PrecisionSpec("weight_only_int4", "int4 weights dequantized to float32 compute", ("float32",),
                   needs_calibration=False, converts_qat_model=False, full_integer=False, optimize=False,
                   weight_dtypes=_FLOAT, activation_dtypes=_FLOAT, marker_constant="int4",
                   quantizer_recipe="weight_only_wi4_afp32"))
# The ladder's selective fallback: ConvertStage picks the ops to keep float by the top-1 it recovers.
_add(PrecisionSpec("int8_mixed", "int8 with the most accuracy-losing ops kept float32 (litert-quantizer)",
                   ("float32",), needs_calibration=True, converts_qat_model=False, full_integer=False,
                   optimize=False, weight_dtypes=_INT8 | _FLOAT, activation_dtypes=_INT8 | _FLOAT,
                   marker_constant="int8", quantizer_recipe="static_wi8_ai8"))
_add(PrecisionSpec("float16", "float16 weights, float32 compute", ("float32",), needs_calibration=False,
                   converts_qat_model=False, full_integer=False, optimize=True, supported_types=("float16",),
                   weight_dtypes=_FLOAT, activation_dtypes=_FLOAT, marker_constant="float16"))
_add(PrecisionSpec("float32", "float32 throughout", ("float32",), needs_calibration=False,
                   converts_qat_model=False, full_integer=False, optimize=False,
                   weight_dtypes=_FLOAT, activation_dtypes=_FLOAT))

UNRECOGNISED = "mixed"  # a file whose tensors match no entry (int8 ops beside float ones, say)


def detect(facts: TensorFacts) -> str:
    return next((name for name in PRECISIONS.names_in_order() if PRECISIONS.get(name).matches(facts)),
                UNRECOGNISED)


def _registered(name: str) -> str:
    if name not in PRECISIONS:
        raise ValueError(f"expected one of: {', '.join(PRECISIONS.names_in_order())}, got {name!r}")
    return name


# A config field naming a precision: checked against the registry, so a new entry is usable at once.
Precision = Annotated[str, AfterValidator(_registered)]
IO_DTYPES = ("int8", "uint8", "float32")
