"""`fit` as a cached stage: predicting candidates converts and times untrained models (2-3 s with
TensorFlow's import), which a rebuild that changes no student, pruning or profile setting skips."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edgebuild.toolchain import fit, fit_predict, fit_split, students
from edgebuild.toolchain.cache import StageCache, cache_key, code_version, file_sha256
from edgebuild.toolchain.pipeline import STAGES, training_versions


def fit_inputs(recipe, target, input_shape: tuple[int, int, int], num_classes: int, versions: dict) -> dict:
    """What a prediction depends on: the candidates, what pruning and clustering leave, the profile,
    the model's shape, the tools, and the host (predictions include host latency)."""
    from edgebuild.converters import tflite
    from edgebuild.verify import checks
    from edgebuild.verify.host import describe_host

    return {"stage": "fit", "code": code_version(fit.__file__, fit_predict.__file__, fit_split.__file__,
                                                  students.__file__, tflite.__file__, checks.__file__),
            "recipe": recipe.name, "seed": recipe.seed, "student": recipe.student.model_dump(mode="json"),
            "stages": [stage.name for stage in STAGES if stage.config(recipe) is not None],
            "prune": _dump(recipe.prune), "cluster": _dump(recipe.cluster),
            "profile_sha256": file_sha256(target.profile_path), "precision": target.precision,
            "io_dtype": target.io_dtype, "input_shape": list(input_shape), "num_classes": num_classes,
            "versions": training_versions(versions), "host": describe_host().identity()}


def choose_students_cached(recipe, recipe_path: Path, targets: Sequence, input_shape: tuple[int, int, int],
                           num_classes: int, cache: StageCache, versions: dict) -> list[tuple[fit.FitResult, bool]]:
    """(fit result, cached) per target; the targets not cached are predicted together, as fit does."""
    inputs = [fit_inputs(recipe, target, input_shape, num_classes, versions) for target in targets]
    keys = [cache_key(target_inputs) for target_inputs in inputs]
    for target, target_inputs in zip(targets, inputs):
        cache.index.record(fit_scope(recipe.name, target.profile.name), target_inputs)
    documents = [cache.read_json(key) for key in keys]
    results = [(fit.FitResult.from_dict(document), True) if document is not None else None for document in documents]
    missing = [index for index, result in enumerate(results) if result is None]
    predicted = fit.choose_students(recipe, recipe_path, [targets[i] for i in missing], input_shape, num_classes)
    for index, result in zip(missing, predicted):
        cache.write_json(keys[index], "fit", result.as_dict())
        results[index] = (result, False)
    return results


def fit_scope(recipe_name: str, profile_name: str) -> str:
    return f"{recipe_name}/fit/{profile_name}"


def _dump(section) -> dict | None:
    return section.model_dump(mode="json") if section is not None else None
