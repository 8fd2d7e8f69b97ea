"""The conversion stage for a PyTorch model: the module → a .tflite through litert-torch, cached.

It takes the `convert` step's place (and `export` has none): the rest of the pipeline reads the
same `Conversion`. The artifact takes the data's NHWC layout: an NCHW module is wrapped by
`litert_torch.to_channel_last_io`, which transposes inside the graph. int8 is full-integer through
the PT2E quantizer (per-channel symmetric weights), calibrated on the same representative draw a
Keras model's converter sees, and comes out with int8 input and output; float32 is converted as is.
litert-torch has no float16 or dynamic-range path, so those precisions are refused before work.
"""

from __future__ import annotations

import contextlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgebuild.base.errors import BadInput
from edgebuild.base.stage import Stage, Upstream
from edgebuild.config.targets import Target
from edgebuild.converters import tflite
from edgebuild.converters.convert import MODEL_FILE, Conversion, weight_sparsity
from edgebuild.toolchain.datasets import model_input
from edgebuild.toolchain.torch_models import TorchModel, torch_versions

TORCH_IO = {"int8": "int8", "float32": "float32"}  # what litert-torch gives: precision → I/O dtype
_UNLOWERED = re.compile(r"Lowering not found: (\S+)")


def check_torch_target(ref: str, target: Target) -> None:
    """Refused before anything loads: a precision or I/O dtype litert-torch does not produce."""
    if TORCH_IO.get(target.precision) != target.io_dtype:
        raise BadInput(f"{ref}: PyTorch models convert to int8 (int8 I/O) or float32 here; profile "
                       f"{target.name} asks for {target.precision} with {target.io_dtype} I/O (pass --precision)")


@dataclass(frozen=True)
class TorchConvertStage(Stage[Conversion]):
    target: Target
    representative_samples: int
    seed: int
    name = "convert"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        calibrated = self.target.precision == "int8"
        return {"upstream": {name: upstream.key(name) for name in ("model", "data")},
                "precision": self.target.precision, "io_dtype": self.target.io_dtype,
                "representative_samples": self.representative_samples if calibrated else None,
                "seed": self.seed, "versions": torch_versions()}

    def run(self, upstream: Upstream, scratch: Path) -> Conversion:
        model: TorchModel = upstream.output("model").load()
        dataset = upstream.output("data")
        calibration = None
        if self.target.precision == "int8":
            calibration = tflite.representative_images(dataset.x_train, self.representative_samples, self.seed)
        model_bytes = convert_torch(model, model_input(dataset.x_train[:1]), calibration, scratch)
        (scratch / MODEL_FILE).write_bytes(model_bytes)
        return Conversion(model_bytes, weight_sparsity(model_bytes))

    def load(self, upstream: Upstream, entry: Path) -> Conversion:
        model_bytes = (entry / MODEL_FILE).read_bytes()
        return Conversion(model_bytes, weight_sparsity(model_bytes))


def convert_torch(model: TorchModel, sample, calibration, scratch: Path) -> bytes:
    """The .tflite bytes: float32 when `calibration` is None, else full-integer int8 calibrated on it.
    litert-torch prints its progress on stdout, where `--json` writes events: it goes to stderr."""
    import litert_torch
    import torch

    module = litert_torch.to_channel_last_io(model.module, args=[0]) if model.layout == "NCHW" else model.module
    args = (torch.from_numpy(sample),)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            if calibration is None:
                converted = litert_torch.convert(module, args)
            else:
                converted = _convert_int8(module, args, calibration)
            converted.export(str(scratch / "litert_torch.tflite"))
    except Exception as error:  # litert-torch raises RuntimeError and others for an op it cannot lower
        raise BadInput(_conversion_error(error)) from None
    return (scratch / "litert_torch.tflite").read_bytes()


def _convert_int8(module, args, calibration):
    import litert_torch
    import torch
    from litert_torch.quantize import pt2e_quantizer, quant_config
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    quantizer = pt2e_quantizer.PT2EQuantizer().set_global(
        pt2e_quantizer.get_symmetric_quantization_config(is_per_channel=True))
    prepared = prepare_pt2e(torch.export.export(module, args).module(), quantizer)
    with torch.no_grad():
        for image in calibration:
            prepared(torch.from_numpy(image[None]))
    quantized = convert_pt2e(prepared, fold_quantize=False)
    return litert_torch.convert(quantized, args, quant_config=quant_config.QuantConfig(pt2e_quantizer=quantizer))


def _conversion_error(error: Exception) -> str:
    text = str(error)
    unlowered = _UNLOWERED.search(text)
    if unlowered:
        return f"litert-torch cannot lower the PyTorch op {unlowered.group(1)} to LiteRT; replace it in the model"
    first = text.strip().splitlines()[0][:200] if text.strip() else "no detail"
    return f"litert-torch could not convert the model ({error.__class__.__name__}: {first})"
