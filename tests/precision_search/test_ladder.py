"""The precision ladder: climbs where the profile lets it, ships the first passing rung, or reports every rung."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_edgebuild
from edgebuild.app.precision_search import ladder
from edgebuild.base.stage import StageRun, Upstream
from edgebuild.config.recipe import SearchConfig
from edgebuild.config.targets import target_for_precision
from edgebuild.converters.convert import ConvertStage
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.metadata import read_json_metadata

CPU = """\
name: test-cpu
description: a CPU running int8, int8 with float fallback, int16x8 and float32
budgets: {size_bytes: 10000000, gzip_bytes: 10000000, peak_memory_bytes: 500000000}
latency: {p95_ms: 1000, p50_ms: 1000, threads: 1}
precisions: [int8, int8_mixed, int16x8, float32]
io_dtypes: [float32]
"""
NPU = """\
name: test-npu
description: an int8-only NPU with int8 I/O
budgets: {size_bytes: 10000000, gzip_bytes: 10000000, peak_memory_bytes: 500000000}
latency: {p95_ms: 1000, p50_ms: 1000, threads: 1}
precisions: [int8]
io_dtypes: [int8]
"""


def _convert(tmp_path: Path, model: Path, profile: str, *extra: str):
    (tmp_path / "profile.yaml").write_text(profile)
    result = run_edgebuild("convert", str(model), "--profile", "profile.yaml", "--data", "sklearn:digits",
                           "--min-accuracy", "0.9", "--out", "out", "-q", *extra, cwd=tmp_path, timeout=300)
    out = tmp_path / "out" / model.stem / profile.split("\n")[0].removeprefix("name: ")
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else None
    return result, report, out


def test_cpu_profile_climbs_to_a_rung_that_recovers_the_floor_and_ships_it(sensitive_keras, tmp_path):
    result, report, out = _convert(tmp_path, sensitive_keras, CPU, "--search", "7")
    rungs = report["precision_search"]["rungs"]

    assert result.returncode == 0, result.stderr
    assert rungs[0]["precision"] == "int8" and not rungs[0]["passed"]
    assert "accuracy_top1" in rungs[0]["failed"]  # plain int8 misses the floor
    shipped = rungs[report["precision_search"]["shipped"] - 1]
    assert shipped["passed"] and shipped["shipped"] and shipped["accuracy"] >= 0.9
    assert [rung["passed"] for rung in rungs] == [False] * (len(rungs) - 1) + [True]  # stops at the first pass
    assert report["precision"] == shipped["precision"]
    if shipped["precision"] == "int8_mixed":  # the kept ops are float in the file; the rest stays int8
        model = read_model((out / "model.tflite").read_bytes())
        assert shipped["kept_float"] and 0 < len(model.float_ops()) < len(model.ops)
    else:
        assert report["artifact"]["precision"] == shipped["precision"]
    assert {rung["precision"] for rung in rungs} <= {"int8", "int8_mixed", "int16x8"}
    clipped = next(rung for rung in rungs if "OCTAV" in rung["name"])  # tried before any float op is kept
    assert clipped["precision"] == "int8" and clipped["accuracy"] is not None and clipped["rung"] < shipped["rung"]
    metadata = read_json_metadata((out / "model.tflite").read_bytes())
    assert metadata["provenance"]["precision_search"]["rung"] == shipped["rung"]
    assert "## Precision search" in (out / "report.md").read_text()


def test_full_integer_profile_reports_every_rung_and_exits_1(sensitive_keras, tmp_path):
    result, report, _ = _convert(tmp_path, sensitive_keras, NPU, "--search", "7")
    search = report["precision_search"]

    assert result.returncode == 1
    assert search["shipped"] is None and not report["passed"]
    assert [rung["precision"] for rung in search["rungs"]] == ["int8"] * 3  # no float fallback on an NPU
    assert all("accuracy_top1" in rung["failed"] and not rung["shipped"] for rung in search["rungs"])
    # The OCTAV rung is full-integer with the profile's int8 I/O: the floor is all it misses.
    clipped = search["rungs"][2]
    assert "OCTAV" in clipped["name"] and 0 <= clipped["accuracy"] <= 1
    assert set(clipped["failed"]) <= {"accuracy_top1", "accuracy_drop_from_float"}
    assert "no rung passed" in (tmp_path / "out" / "sensitive" / "test-npu" / "report.md").read_text()


@pytest.fixture(scope="module")
def good_keras(digits, tmp_path_factory) -> Path:
    from edgebuild.base import tfenv  # noqa: F401
    import tf_keras as keras

    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.layers.Input((8, 8, 1)), keras.layers.Flatten(name="flat"),
                              keras.layers.Dense(32, activation="relu", name="hidden"),
                              keras.layers.Dense(10, name="logits")])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train, digits.y_train, epochs=15, batch_size=64, verbose=0)
    path = tmp_path_factory.mktemp("good") / "good.keras"
    model.save(path)
    return path


def test_a_model_that_passes_at_int8_stops_at_rung_1_with_the_same_conversion(good_keras, tmp_path):
    (tmp_path / "plain").mkdir()
    _, plain, plain_out = _convert(tmp_path / "plain", good_keras, CPU)
    result, searched, searched_out = _convert(tmp_path, good_keras, CPU, "--search", "7")

    assert result.returncode == 0 and plain["passed"] and plain.get("precision_search") is None
    assert searched["precision_search"]["shipped"] == 1 and len(searched["precision_search"]["rungs"]) == 1
    stage_keys = [{row["name"]: row["key"] for row in report["stages"]} for report in (plain, searched)]
    assert stage_keys[0]["convert"] == stage_keys[1]["convert"]
    plain_model, searched_model = (read_model((out / "model.tflite").read_bytes()) for out in (plain_out, searched_out))
    assert [op.name for op in plain_model.ops] == [op.name for op in searched_model.ops]
    for (_, plain_weights), (_, searched_weights) in zip(plain_model.weights(), searched_model.weights(), strict=True):
        np.testing.assert_array_equal(plain_weights, searched_weights)
    assert (plain_out / "model.tflite").read_bytes() == (searched_out / "model.tflite").read_bytes()  # metadata too


def test_an_int8_profile_climbs_to_octav_clipped_weights_and_only_that_rung_keys_them():
    target = target_for_precision("android-flagship", None)
    rungs = ladder(target, 200, SearchConfig())

    assert [(rung.precision, rung.representative_samples, rung.clipped_weights) for rung in rungs] == [
        ("int8", 200, False), ("int8", 1000, False), ("int8", 1000, True)]
    upstream = Upstream({name: StageRun(name, name * 8, {}, False, 0.0, None) for name in ("export", "data")})
    keys = [ConvertStage(target, rung.representative_samples, 0, {}, clipped_weights=rung.clipped_weights)
            .key_inputs(upstream) for rung in rungs]
    assert keys[2] == {**keys[1], "clipped_weights": True} and "clipped_weights" not in keys[0] | keys[1]


def test_a_float_precision_has_no_clipped_int8_rung():
    rungs = ladder(target_for_precision("iphone", None), 200, SearchConfig())

    assert [rung.precision for rung in rungs] == ["float16", "float32"] and not any(r.clipped_weights for r in rungs)
