"""`edgebuild convert` as an API: a Keras model (tf_keras or Keras 3) the user trained × a profile →
a verified artifact.

No teacher and no distillation: the model is loaded without running code it carries, measured as the
float reference (the pipeline's `model` step), then exported, converted, stamped and verified
exactly as `build` does it. A PyTorch model (`.pt2`, or `package.module:factory` when trusted) takes
the same walk with its own `model` and `convert` stages (toolchain/torch_models.py,
converters/torch_convert.py); its input size is its exported example's, or the data's own.
"""

from __future__ import annotations

import functools
from pathlib import Path

from edgebuild.app.pipeline import walk
from edgebuild.app.precision_search import publish_searched
from edgebuild.app.publish import ProfileResult, check_writable_folders, publish_target
from edgebuild.base import tfenv
from edgebuild.base.cache import StageCache, default_cache_root
from edgebuild.base.errors import BadInput
from edgebuild.base.events import Events
from edgebuild.config.recipe import ConvertConfig, DataConfig, VerifyConfig
from edgebuild.config.targets import target_for_precision
from edgebuild.converters.torch_convert import check_torch_target
from edgebuild.toolchain.context import BuildContext, ModelFile
from edgebuild.toolchain.data import native_image_size
from edgebuild.toolchain.model_files import OUTPUT_NAME, image_classifier_shape, load_inference_model, model_sha256
from edgebuild.toolchain.torch_models import (check_source, exported_input_size, is_torch_source,
                                              load_torch_module, output_name, require_torch, source_sha256,
                                              torch_versions)


def convert_model(model_ref: str, profile_ref: str, data_source: str, out_root: Path, **options) -> ProfileResult:
    """A PyTorch source or a Keras file, by what `model_ref` names."""
    convert = convert_torch_model if is_torch_source(model_ref) else convert_keras_file
    return convert(Path(model_ref) if convert is convert_keras_file else model_ref, profile_ref, data_source,
                   out_root, **options)


def convert_keras_file(model_path: Path, profile_ref: str, data_source: str, out_root: Path, *,
                       precision: str | None = None, seed: int = 0, trust_unsafe_format: bool = False,
                       settings: ConvertConfig = ConvertConfig(), limits: VerifyConfig = VerifyConfig(),
                       cache_root: Path | None = None, events: Events = Events()) -> ProfileResult:
    """Write OUT/<model stem>/<profile>/; an unsupported precision is refused before anything is loaded."""
    target = target_for_precision(profile_ref, precision)
    if not OUTPUT_NAME.match(model_path.stem):
        raise BadInput(f"{model_path}: the file name must start with a letter or digit and hold only letters, "
                       "digits, '_', '.' and '-' (it names the output folder)")
    cache_root = cache_root or default_cache_root()
    check_writable_folders(out_root, cache_root)
    if model_path.suffix.lower() == ".tflite":
        raise BadInput(f"{model_path}: already a .tflite: check it against a profile with `edgebuild verify`")
    load = functools.cache(lambda: load_inference_model(model_path, trust_unsafe_format=trust_unsafe_format,
                                                        trust_hint="pass --trust-unsafe-format"))
    (height, width, _), _ = image_classifier_shape(model_path, load())
    tfenv.tensorflow(seed)
    ctx = BuildContext(name=model_path.stem, source_kind="model", source_path=model_path, recipe=None,
                       data=DataConfig(source=data_source, input_size=(height, width)), convert=settings,
                       verify=limits, targets=(target,), cache=StageCache(cache_root), versions=tfenv.tool_versions(),
                       events=events, seed=seed, base_dir=Path.cwd(),
                       inputs={"model_sha256": model_sha256(model_path), "seed": seed}, data_flag="--data",
                       model_file=ModelFile(model_path, load))
    return publish_searched(ctx, target, walk(ctx).runs[target.name], out_root)


def convert_torch_model(model_ref: str, profile_ref: str, data_source: str, out_root: Path, *,
                        precision: str | None = None, seed: int = 0, trust_unsafe_format: bool = False,
                        settings: ConvertConfig = ConvertConfig(), limits: VerifyConfig = VerifyConfig(),
                        cache_root: Path | None = None, events: Events = Events()) -> ProfileResult:
    """Write OUT/<name>/<profile>/ for a PyTorch model; refusals (no torch, a precision litert-torch
    does not produce, an untrusted reference) come before anything is loaded."""
    target = target_for_precision(profile_ref, precision)
    check_source(model_ref, trust_unsafe_format=trust_unsafe_format)
    check_torch_target(model_ref, target)
    require_torch()
    name = output_name(model_ref)
    if not OUTPUT_NAME.match(name):
        raise BadInput(f"{model_ref}: the name must start with a letter or digit and hold only letters, "
                       "digits, '_', '.' and '-' (it names the output folder)")
    cache_root = cache_root or default_cache_root()
    check_writable_folders(out_root, cache_root)
    load = functools.cache(lambda: load_torch_module(model_ref))
    input_size = exported_input_size(load()) if model_ref.lower().endswith(".pt2") else None
    tfenv.tensorflow(seed)
    ctx = BuildContext(name=name, source_kind="model", source_path=Path(model_ref), recipe=None,
                       data=DataConfig(source=data_source, input_size=input_size or native_image_size(data_source)),
                       convert=settings, verify=limits, targets=(target,), cache=StageCache(cache_root),
                       versions={**tfenv.tool_versions(), **torch_versions()}, events=events, seed=seed,
                       base_dir=Path.cwd(), inputs={"model_sha256": source_sha256(model_ref), "seed": seed},
                       data_flag="--data", model_file=ModelFile(Path(model_ref), load, framework="torch"))
    return publish_target(ctx, target, walk(ctx).runs[target.name], out_root)
