"""Teacher stage: train a small CNN from the recipe, or load the user's model without running its code."""

from __future__ import annotations

from pathlib import Path

from edgebuild.errors import BadInput
from edgebuild.toolchain.training import (StageContext, Upstream, fit, keras, load_weights,
                                          sparse_categorical_loss)

# .keras archives are loaded with safe_mode (no lambdas or pickled code); these formats can run code.
_UNSAFE_SUFFIXES = (".h5", ".hdf5", ".pb", "")


def train(ctx: StageContext, upstream: Upstream):
    config = ctx.recipe.teacher
    if config.path is not None:
        return _load_file(ctx, config)
    data = ctx.dataset
    model = _build(ctx)
    fit(model, data.x_train, data.y_train, config.training, sparse_categorical_loss(), ctx, "teacher")
    return model


def restore(ctx: StageContext, folder: Path, upstream: Upstream):
    if ctx.recipe.teacher.path is not None:
        return _load_file(ctx, ctx.recipe.teacher)
    return load_weights(_build(ctx), folder)


def teacher_file(recipe, base_dir: Path) -> Path | None:
    """The user's teacher file, resolved against the recipe's folder; its bytes go into the cache key."""
    path = recipe.teacher.path
    if path is None:
        return None
    resolved = Path(path) if Path(path).is_absolute() else base_dir / path
    if not resolved.exists():
        raise BadInput(f"teacher.path: {resolved}: file not found (expected a .keras model)")
    return resolved


def _build(ctx: StageContext):
    spec = ctx.recipe.teacher.architecture
    layers = keras.layers
    inputs = layers.Input(ctx.dataset.input_shape, name="teacher_input")
    x = inputs
    for index, filters in enumerate(spec.filters):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"teacher_conv{index}")(x)
        if min(x.shape[1:3]) >= 4:
            x = layers.MaxPooling2D(2, name=f"teacher_pool{index}")(x)
    x = layers.Flatten(name="teacher_flatten")(x)
    x = layers.Dense(spec.dense_units, activation="relu", name="teacher_dense")(x)
    x = layers.Dropout(spec.dropout, name="teacher_dropout")(x)
    outputs = layers.Dense(ctx.dataset.num_classes, name="teacher_logits")(x)
    return keras.Model(inputs, outputs, name="teacher")


def _load_file(ctx: StageContext, config):
    path = teacher_file(ctx.recipe, ctx.base_dir)
    unsafe = path.is_dir() or path.suffix.lower() in _UNSAFE_SUFFIXES
    if unsafe and not config.trust_unsafe_format:
        raise BadInput(f"teacher.path: {path}: .h5 and SavedModel files can run code when loaded; "
                       "save the model as .keras, or set teacher.trust_unsafe_format: true if you trust its author")
    try:
        model = keras.models.load_model(str(path), compile=False, **({} if unsafe else {"safe_mode": True}))
    except Exception as error:  # Keras raises many types for a damaged archive; all mean "unusable file".
        raise BadInput(f"teacher.path: {path}: cannot load model ({error.__class__.__name__}: "
                       f"{str(error).splitlines()[0][:160] if str(error) else 'no detail'})") from None
    _check_shape(path, model, ctx.dataset)
    return model


def _check_shape(path: Path, model, dataset) -> None:
    expected_in, expected_out = (None, *dataset.input_shape), (None, dataset.num_classes)
    if tuple(model.input_shape) != expected_in or tuple(model.output_shape) != expected_out:
        raise BadInput(f"teacher.path: {path}: model maps {model.input_shape} → {model.output_shape}: "
                       f"expected {expected_in} → {expected_out} for this recipe's data")
