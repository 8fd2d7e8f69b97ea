"""`edgebuild convert` as an API: a Keras model the user trained × a profile → a verified artifact.

No teacher and no distillation: the model is loaded without running code it carries, measured as the
float reference, then exported, converted, stamped and verified exactly as `build` does it.
"""

from __future__ import annotations

import re
from pathlib import Path

from edgebuild.build import ProfileResult, Release, check_writable_folders, publish_verified, target_for_precision
from edgebuild.errors import BadInput
from edgebuild.events import Events
from edgebuild.profile import load_profile
from edgebuild.recipe import ConvertConfig, DataConfig, VerifyConfig

# tf_keras' safe_mode protects only the .keras format; .h5 and SavedModel loading can run code
# (shared/NOTES.md, "Untrusted input").
_UNSAFE_SUFFIXES = (".h5", ".hdf5", ".pb", "")
_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # the model's stem names its output folder


def convert_keras_file(model_path: Path, profile_ref: str, data_source: str, out_root: Path, *,
                       precision: str | None = None, seed: int = 0, trust_unsafe_format: bool = False,
                       settings: ConvertConfig = ConvertConfig(), limits: VerifyConfig = VerifyConfig(),
                       cache_root: Path | None = None, events: Events = Events()) -> ProfileResult:
    """Write OUT/<model stem>/<profile>/; an unsupported precision is refused before anything is loaded."""
    profile, profile_path = load_profile(profile_ref)
    target = target_for_precision(profile, profile_path, precision)
    if not _OUTPUT_NAME.match(model_path.stem):
        raise BadInput(f"{model_path}: the file name must start with a letter or digit and hold only letters, "
                       "digits, '_', '.' and '-' (it names the output folder)")
    from edgebuild import tfenv
    from edgebuild.converters.export import ModelSource
    from edgebuild.toolchain.cache import StageCache, cache_key, default_cache_root

    cache_root = cache_root or default_cache_root()
    check_writable_folders(out_root, cache_root)
    model = load_keras_file(model_path, trust_unsafe_format=trust_unsafe_format,
                            trust_hint="pass --trust-unsafe-format")
    tfenv.tensorflow(seed)
    dataset = _matching_dataset(model_path, model, data_source, seed)
    model_sha256 = _content_sha256(model_path)
    release = Release("model", model_path.stem, dataset, seed, settings.representative_samples, limits,
                      "float_model", _float_metrics(model, dataset), (), tfenv.tool_versions(),
                      {"model_sha256": model_sha256, "data_sha256": dataset.sha256, "seed": seed}, events)
    source = ModelSource("keras_file", cache_key({"stage": "keras_file", "sha256": model_sha256}), lambda: model)
    return publish_verified(release, target, source, StageCache(cache_root), out_root)


def _matching_dataset(model_path: Path, model, data_source: str, seed: int):
    """The data resized to the model's input and split as a recipe's data is by default."""
    from edgebuild.toolchain.data import load_dataset

    (height, width, channels), classes = image_classifier_shape(model_path, model)
    split = DataConfig(source=data_source, input_size=(height, width))
    dataset = load_dataset(data_source, (height, width), validation_fraction=split.validation_fraction,
                           test_fraction=split.test_fraction, seed=seed)
    if dataset.input_shape[-1] != channels or dataset.num_classes != classes:
        raise BadInput(f"{model_path}: the model takes {channels} channel(s) and scores {classes} classes; "
                       f"{data_source} has {dataset.input_shape[-1]} channel(s) and {dataset.num_classes} classes")
    return dataset


def _float_metrics(model, dataset) -> dict[str, float]:
    """The Keras model's own top-1 on the splits the artifact is measured on: the float reference."""
    from edgebuild.toolchain.training import accuracy

    return {"accuracy": accuracy(model, dataset.x_test, dataset.y_test),
            "accuracy_all_data": accuracy(model, dataset.x_all, dataset.y_all)}


def load_keras_file(path: Path, *, trust_unsafe_format: bool, trust_hint: str):
    """The model in `path`; `trust_hint` says how the user vouches for a format that can run code.

    Refusals come before TensorFlow is imported, so they cost no start-up time.
    """
    if not path.exists():
        raise BadInput(f"{path}: model file not found (expected a .keras file)")
    unsafe = path.is_dir() or path.suffix.lower() in _UNSAFE_SUFFIXES
    if unsafe and not trust_unsafe_format:
        raise BadInput(f"{path}: .h5 and SavedModel files can run code when loaded; save the model as .keras, "
                       f"or {trust_hint} if you trust its author")
    from edgebuild import tfenv  # noqa: F401  (selects Keras 2 before tf_keras loads)
    import tf_keras as keras

    try:
        return keras.models.load_model(str(path), compile=False, **({} if unsafe else {"safe_mode": True}))
    except Exception as error:  # Keras raises many types for a damaged archive; all mean "unusable file".
        detail = str(error).strip().splitlines()[0][:160] if str(error).strip() else "no detail"
        raise BadInput(f"{path}: cannot load model ({error.__class__.__name__}: {detail})") from None


def _content_sha256(path: Path) -> str:
    """A .keras or .h5 file's sha256; for a SavedModel folder, over its files' names and hashes."""
    from edgebuild.toolchain.cache import cache_key, file_sha256

    if path.is_file():
        return file_sha256(path)
    return cache_key({file.relative_to(path).as_posix(): file_sha256(file)
                      for file in sorted(path.rglob("*")) if file.is_file()})


def image_classifier_shape(path: Path, model) -> tuple[tuple[int, int, int], int]:
    """(height, width, channels) and the class count of a one-input NHWC classifier with fixed sizes."""
    input_shape, output_shape = model.input_shape, model.output_shape
    fixed_input = isinstance(input_shape, tuple) and len(input_shape) == 4 and None not in input_shape[1:]
    fixed_output = isinstance(output_shape, tuple) and len(output_shape) == 2 and output_shape[1] is not None
    if not (fixed_input and fixed_output):
        raise BadInput(f"{path}: model maps {input_shape} → {output_shape}: expected one image input "
                       "(None, height, width, channels) and one output (None, classes), all sizes fixed")
    return tuple(input_shape[1:]), output_shape[1]
