"""A phone profile whose latency basis is `predicted`: the gate judges the bundled predictor's p50,
states its leave-one-model-out error, keeps the host time labelled host, and yields to a device."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from cli_runner import assert_one_line_error, run_edgebuild
from tiny_recipe import TINY_RECIPE
from verify_cli import checks_of, report_of, verify
from edgebuild.config.latency_predictor import bundled_predictor
from edgebuild.config.profile import load_profile
from edgebuild.converters.flatbuffer import read_model
from edgebuild.converters.latency_features import latency_features
from edgebuild.verify.checks import Check
from edgebuild.verify.latency_model import LatencyFit
from edgebuild.verify.latency_prediction import P50, superseded_by_device

PHONE = "galaxy-s24"


def _tiny_artifact(tiny_build: Path) -> Path:
    return tiny_build / "out" / "tiny" / "android-flagship" / "model.tflite"


def _phone_profile(tmp_path: Path, **latency) -> Path:
    _, bundled = load_profile(PHONE)
    document = yaml.safe_load(bundled.read_text())
    document["latency"].update(latency)
    path = tmp_path / "phone.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def _expected_p50(model: Path) -> float:
    entry = bundled_predictor()["fits"]["Samsung Galaxy S24"]["tflite"]["w8a8"]
    features = latency_features(read_model(model.read_bytes(), source=str(model)))
    return round(LatencyFit(entry["overhead_ms"], entry["costs_ms"]).predict_ms(features), 4)


def test_a_predicted_phone_profile_gates_the_tiny_build_on_the_prediction(tmp_path, tiny_build):
    shutil.copytree(tiny_build / "cache", tmp_path / "cache")
    (tmp_path / "tiny.yaml").write_text(TINY_RECIPE)
    result = run_edgebuild("build", "tiny.yaml", "--profile", PHONE, "--out", "out", cwd=tmp_path)

    folder = tmp_path / "out" / "tiny" / PHONE
    report = json.loads((folder / "report.json").read_text())
    checks = {check["name"]: check for check in report["checks"]}
    assert result.returncode == (0 if report["passed"] else 1), result.stderr[-2000:]
    predicted = checks[P50]
    assert predicted["basis"] == "prediction" and predicted["ran"] and predicted["passed"]
    assert predicted["value"] == _expected_p50(folder / "model.tflite") > 0
    assert not checks["predicted_latency_p95_ms"]["ran"]
    assert not any(name.startswith("host_latency") for name in checks)  # the host time is not the phone's
    assert report["latency_ms"]["where"] == "host" and report["latency_ms"]["p50"] > 0
    section = report["predicted_latency"]
    assert section["device"] == "Samsung Galaxy S24" and section["precision"] == "w8a8"
    assert section["band_low_ms"] < predicted["value"] < section["band_high_ms"]
    markdown = (folder / "report.md").read_text()
    assert "(a prediction, not a measurement)" in markdown and "## Host latency" in markdown


def test_a_prediction_over_the_target_fails_with_its_error_band(tmp_path, tiny_build):
    model = _tiny_artifact(tiny_build)
    profile = _phone_profile(tmp_path, p50_ms=0.001)

    result = verify(model, str(profile), "--json", cwd=tmp_path)

    assert result.returncode == 1, result.stderr
    check = checks_of(result)[P50]
    expected = _expected_p50(model)
    assert not check["passed"] and check["value"] == expected > 0.001
    error = bundled_predictor()["fits"]["Samsung Galaxy S24"]["tflite"]["w8a8"]["lomo"]
    for fragment in (f"{expected} ms exceeds the limit 0.001 ms", "leave-one-model-out",
                     f"median {error['median_ape_pct']}%", f"p90 {error['p90_ape_pct']}%"):
        assert fragment in check["reason"]
    assert report_of(result)["passed"] is False


def test_prediction_features_do_not_depend_on_the_weights(tmp_path):
    """Two random initialisations of one architecture: the same features, and the MACs counted by hand."""
    from edgebuild.base.tfenv import tensorflow

    tf = tensorflow()
    import tf_keras

    features = []
    for seed in (1, 2):
        tf_keras.utils.set_random_seed(seed)
        model = tf_keras.Sequential([tf_keras.Input((8, 8, 1)), tf_keras.layers.Conv2D(4, 3, padding="same"),
                                     tf_keras.layers.DepthwiseConv2D(3, padding="same"),
                                     tf_keras.layers.Flatten(), tf_keras.layers.Dense(10)])
        data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        features.append(latency_features(read_model(data, source=f"seed {seed}")))

    assert features[0] == features[1]
    assert features[0]["macs_conv"] == 8 * 8 * 4 * 3 * 3 * 1
    assert features[0]["macs_depthwise"] == 8 * 8 * 4 * 3 * 3
    assert features[0]["macs_fully_connected"] == 8 * 8 * 4 * 10


def test_an_unknown_predictor_device_is_refused_naming_the_field(tmp_path, tiny_build):
    profile = _phone_profile(tmp_path, predicted_for="Galaxy S99")

    result = verify(_tiny_artifact(tiny_build), str(profile), cwd=tmp_path)

    assert_one_line_error(result, 2, "latency.predicted_for", "Samsung Galaxy S24", "'Galaxy S99'")


def test_a_device_measurement_replaces_the_prediction():
    prediction = Check(P50, 9.0, 4.0, False, "over", "prediction")
    measured = Check("device_latency_p50_ms", 3.0, 4.0, True, basis="device")

    kept = superseded_by_device([prediction], [measured])

    assert [(check.name, check.ran) for check in kept] == [(P50, False), ("device_latency_p50_ms", True)]
    assert superseded_by_device([prediction], [Check("device_run", False, True, False, "unreachable", "device")]) \
        [0] == prediction  # no device number: the prediction still judges
