"""`edgebuild convert` as an API: a Keras model the user trained × a profile → a verified artifact.

No teacher and no distillation: the model is loaded without running code it carries, measured as the
float reference (the pipeline's `model` step), then exported, converted, stamped and verified
exactly as `build` does it.
"""

from __future__ import annotations

import functools
from pathlib import Path

from edgebuild.app.pipeline import walk
from edgebuild.app.precision_search import publish_searched
from edgebuild.app.publish import ProfileResult, check_writable_folders
from edgebuild.base import tfenv
from edgebuild.base.cache import StageCache, default_cache_root
from edgebuild.base.errors import BadInput
from edgebuild.base.events import Events
from edgebuild.config.recipe import ConvertConfig, DataConfig, VerifyConfig
from edgebuild.config.targets import target_for_precision
from edgebuild.toolchain.context import BuildContext, ModelFile
from edgebuild.toolchain.model_files import OUTPUT_NAME, image_classifier_shape, load_keras_file, model_sha256


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
    load = functools.cache(lambda: load_keras_file(model_path, trust_unsafe_format=trust_unsafe_format,
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
