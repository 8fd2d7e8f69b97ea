"""A PyTorch model the user trained, as a cached conversion source (`edgebuild convert model.pt2`).

Two forms: a `torch.export` program (`.pt2`) and a Python reference `package.module:factory` whose
factory returns an `nn.Module`. Importing user code runs it, so a reference needs
`--trust-unsafe-format` like an `.h5` file does. torch is the optional `edgebuild[torch]` extra and
is imported only here and in `converters/torch_convert.py`, inside functions. `TorchModelStage`
measures the PyTorch model itself on the data's splits: the float reference the artifact is gated
against.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import re
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

import numpy as np

from edgebuild.base.cache import file_sha256
from edgebuild.base.errors import BadInput
from edgebuild.base.stage import Stage, Upstream
from edgebuild.toolchain.context import ModelFile, training_versions
from edgebuild.toolchain.datasets import model_input
from edgebuild.toolchain.training_stage import METRICS_FILE, TrainedModel

INSTALL_HINT = "PyTorch models need the torch extra: pip install 'edgebuild[torch]' (CPU torch and litert-torch)"
TORCH_PACKAGES = ("torch", "litert-torch")
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")  # package.module:factory
Layout = Literal["NCHW", "NHWC"]


@dataclass(frozen=True)
class TorchModel:
    """The module in eval mode and the layout its input takes; the data (and the artifact) are NHWC."""

    module: Any
    layout: Layout
    batch: int = 256  # 1 for a program exported at batch size 1, as most are

    def to_module_layout(self, images: np.ndarray) -> np.ndarray:
        """NHWC dataset images (8-bit or float) as the module's float input."""
        images = model_input(images)
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2) if self.layout == "NCHW" else images)


def is_torch_source(ref: str) -> bool:
    """A `.pt2` file or a `package.module:factory` reference (and not a file of that name)."""
    return ref.lower().endswith(".pt2") or (_REFERENCE.match(ref) is not None and not Path(ref).exists())


def output_name(ref: str) -> str:
    """What names OUT/<name>/: the file's stem, or the reference with `:` as `.`."""
    return Path(ref).stem if ref.lower().endswith(".pt2") else ref.replace(":", ".")


def require_torch() -> None:
    """torch and litert-torch importable, else exit 2 with the install line."""
    try:
        import litert_torch  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise BadInput(INSTALL_HINT) from None


def torch_versions() -> dict[str, str]:
    found = {}
    for package in TORCH_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def source_sha256(ref: str) -> str:
    """The `.pt2` file's sha256, or that of the factory's module source (what the reference runs)."""
    if ref.lower().endswith(".pt2"):
        return file_sha256(Path(ref))
    spec = importlib.util.find_spec(ref.split(":")[0])
    return file_sha256(Path(spec.origin))


def check_source(ref: str, *, trust_unsafe_format: bool) -> None:
    """Refusals before torch is imported: a missing file, an untrusted reference, a module not found."""
    if ref.lower().endswith(".pt2"):
        if not Path(ref).is_file():
            raise BadInput(f"{ref}: model file not found (expected a torch.export program, .pt2)")
        return
    if not trust_unsafe_format:
        raise BadInput(f"{ref}: a Python reference runs its module's code when imported; "
                       "pass --trust-unsafe-format if you trust its author")
    module = ref.split(":")[0]
    if str(Path.cwd()) not in sys.path:  # `python -m` puts the working folder there; the console script does not
        sys.path.insert(0, str(Path.cwd()))
    try:
        found = importlib.util.find_spec(module)
    except ImportError:
        found = None
    if found is None or found.origin is None:
        raise BadInput(f"{ref}: module {module} not found (expected package.module:factory importable from here)")


def load_torch_module(ref: str):
    """The nn.Module in eval mode; a file or factory that does not give one is one line, exit 2."""
    require_torch()
    import torch

    try:
        module = _load_program(ref) if ref.lower().endswith(".pt2") else _call_factory(ref)
    except BadInput:
        raise
    except Exception as error:  # torch raises many types for a damaged archive; all mean "unusable".
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else "no detail"
        raise BadInput(f"{ref}: cannot load PyTorch model ({error.__class__.__name__}: {detail})") from None
    if not isinstance(module, torch.nn.Module):
        raise BadInput(f"{ref}: gave a {type(module).__name__}, expected a torch.nn.Module")
    return _eval_mode(module)


def exported_input_size(module) -> tuple[int, int] | None:
    """(height, width) of an exported program's one 4-d image input, read off its example shape;
    the channel axis is the one of size 1 or 3 (NCHW when both could be)."""
    shapes = [tuple(node.meta["val"].shape) for node in module.graph.nodes
              if node.op == "placeholder" and "val" in node.meta and getattr(node.meta["val"], "ndim", 0) == 4]
    if len(shapes) != 1:
        return None
    _, first, height_or_second, last = shapes[0]
    return (height_or_second, last) if first in (1, 3) else (first, height_or_second)


def _load_program(ref: str):
    """torch.export.load logs a traceback for a damaged archive before raising; the error says it in one line."""
    import torch

    logger = logging.getLogger("torch.export")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return torch.export.load(ref).module()
    finally:
        logger.setLevel(level)


def _call_factory(ref: str):
    module_name, factory_name = ref.split(":")
    factory = getattr(importlib.import_module(module_name), factory_name, None)
    if not callable(factory):
        raise BadInput(f"{ref}: {module_name} has no callable {factory_name}")
    return factory()


def _eval_mode(module):
    try:
        return module.eval()
    except NotImplementedError:  # torch refuses eval() on an ExportedProgram's module: its mode was fixed at export
        return module


def with_layout(ref: str, module, sample: np.ndarray) -> TorchModel:
    """The layout (NCHW first, PyTorch's own) in which `module` scores NHWC `sample` images into classes."""
    import torch

    errors = []
    for layout in ("NCHW", "NHWC"):
        model = TorchModel(module, layout)
        try:
            with torch.no_grad():
                scores = module(torch.from_numpy(model.to_module_layout(sample[:1])))
        except Exception as error:  # a shape mismatch surfaces as whatever the first layer raises
            errors.append(f"{layout}: {str(error).strip().splitlines()[0][:100] if str(error).strip() else error}")
            continue
        if isinstance(scores, torch.Tensor) and scores.ndim == 2:
            return TorchModel(module, layout, _batch_size(model, sample))
        errors.append(f"{layout}: output {getattr(scores, 'shape', type(scores).__name__)}")
    raise BadInput(f"{ref}: takes no --data image of shape {tuple(sample.shape[1:])} (NHWC) in either layout "
                   f"({'; '.join(errors)}); expected one image input and one output (batch, classes)")


def _batch_size(model: TorchModel, sample: np.ndarray) -> int:
    import torch

    try:
        with torch.no_grad():
            model.module(torch.from_numpy(model.to_module_layout(sample[:2])))
    except Exception:  # an exported program guards its example's batch size
        return 1
    return model.batch


def predict(model: TorchModel, images: np.ndarray) -> np.ndarray:
    import torch

    step = model.batch
    with torch.no_grad():
        return np.concatenate([model.module(torch.from_numpy(model.to_module_layout(images[start:start + step])))
                               .numpy() for start in range(0, len(images), step)])


@dataclass(frozen=True)
class TorchModelStage(Stage[TrainedModel]):
    """The PyTorch model as the conversion source; its metrics are its own top-1 on the data's splits."""

    model_file: ModelFile
    versions: dict[str, str]
    name = "model"

    def key_inputs(self, upstream: Upstream) -> dict[str, Any]:
        return {"source": str(self.model_file.path) if not str(self.model_file.path).endswith(".pt2") else None,
                "model_sha256": source_sha256(str(self.model_file.path)), "upstream": {"data": upstream.key("data")},
                "versions": {**training_versions(self.versions), **torch_versions()}}

    def run(self, upstream: Upstream, scratch: Path) -> TrainedModel:
        ref, dataset = str(self.model_file.path), upstream.output("data")
        model = with_layout(ref, self.model_file.load(), dataset.x_test)
        _check_classes(ref, model, dataset)
        metrics = {"accuracy": _accuracy(model, dataset.x_test, dataset.y_test),
                   "accuracy_all_data": _accuracy(model, dataset.x_all, dataset.y_all), "layout": model.layout,
                   "batch": model.batch}
        (scratch / METRICS_FILE).write_text(json.dumps(metrics, sort_keys=True))
        return TrainedModel(metrics, lambda: model)

    def load(self, upstream: Upstream, entry: Path) -> TrainedModel:
        metrics = json.loads((entry / METRICS_FILE).read_text())
        return TrainedModel(metrics, lambda: TorchModel(self.model_file.load(), metrics["layout"], metrics["batch"]))


def _accuracy(model: TorchModel, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(predict(model, x), axis=-1) == y))


def _check_classes(ref: str, model: TorchModel, dataset) -> None:
    classes = predict(model, dataset.x_test[:1]).shape[-1]
    if classes != dataset.num_classes:
        raise BadInput(f"{ref}: the model scores {classes} classes; --data has {dataset.num_classes}")
