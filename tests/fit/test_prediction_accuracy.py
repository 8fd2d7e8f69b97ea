"""Predicted against built: size within 5%, arena and peak memory within 10%, per architecture and precision."""

from __future__ import annotations

import pytest

from edgebuild.config.targets import load_targets
from edgebuild.app.fit import predict_fit, predicted_vs_measured
from edgebuild.base.tfenv import tool_versions
from fit_builds import built_artifact, digits
from fit_recipes import write_ladder

SIZE_TOLERANCE_PCT, MEMORY_TOLERANCE_PCT = 5.0, 10.0


@pytest.mark.parametrize("architecture, input_size, widths, profile", [
    ("mobilenet_v1", 16, (0.5, 1.5), "android-flagship"),  # int8 from the QAT model
    ("mobilenet_v2", 8, (0.5, 1.0), "cortex-m7"),  # int8 from the QAT model, memory: TFLite Micro's arena
    ("mobilenet_v1", 8, (0.75,), "iphone"),  # float16 weights from the float model, float32 I/O
])
def test_predicted_artifact_matches_the_built_one(tmp_path, architecture, input_size, widths, profile):
    from edgebuild.converters.artifact import read_artifact
    from edgebuild.verify.checks import memory_check
    from edgebuild.verify.micro_runtime import memory_basis, run_in_micro

    recipe_path = write_ladder(tmp_path, architecture=architecture, widths=widths, input_size=input_size)
    recipe, recipe_path, (target,) = load_targets(str(recipe_path), [profile])
    dataset = digits(recipe, recipe_path)
    result = predict_fit(recipe, target, dataset.input_shape, dataset.num_classes, tool_versions())

    errors = {}
    for candidate in result.candidates:
        path = tmp_path / f"{candidate.name}.tflite"
        path.write_bytes(built_artifact(recipe, recipe_path, target, candidate.name, dataset))
        built = read_artifact(path)
        micro = run_in_micro(built, None) if target.profile.micro_runtime else None  # as the build's gate does
        _, memory = memory_check(built, target.profile, None, memory_basis(micro, built, target.profile))
        report = {"artifact": built.as_dict(), "memory": memory}  # the sections a build report has
        rows = predicted_vs_measured(candidate.predicted, report)
        errors[candidate.name] = {figure: rows[figure]["error_pct"]
                                  for figure in ("size_bytes", "arena_bytes", "peak_memory_bytes", "gzip_bytes")}
        assert rows["parameters"]["error_pct"] == 0
    print(architecture, input_size, profile, errors)  # pytest -s shows the measured errors
    for name, error in errors.items():
        assert abs(error["size_bytes"]) <= SIZE_TOLERANCE_PCT, (name, error)
        assert abs(error["arena_bytes"]) <= MEMORY_TOLERANCE_PCT, (name, error)
        assert abs(error["peak_memory_bytes"]) <= MEMORY_TOLERANCE_PCT, (name, error)
