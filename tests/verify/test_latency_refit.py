"""`edgebuild refit-latency` on a wheel-shaped archive with known timings; bad archives are refused."""

from __future__ import annotations

import json
import shutil
import zipfile

import pytest
import yaml

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.app.latency_refit import default_folder, read_features, read_published
from edgebuild.base.cache import file_sha256
from edgebuild.config.latency_predictor import FEATURE_TABLE, PREDICTOR_FILE, PUBLISHED_TABLE

DEVICE = "Samsung Galaxy S24"


def _perf_yaml(latency_ms: float) -> str:
    measured = {"inference_time_milliseconds": latency_ms, "job_status": "Passed", "job_id": "j1",
                "estimated_peak_memory_range_mb": {"min": 1, "max": 3}, "layer_counts": {"npu": 9, "total": 9},
                "primary_compute_unit": "NPU"}
    metrics = {DEVICE: {"tflite": measured, "onnx": measured}, "Arduino VENTUNO Q": {"tflite": measured}}
    return yaml.safe_dump({"precisions": {"float": {"components": {"Net": {"performance_metrics": metrics}}}}})


def _wheel(path, features):
    """0.2 ms + 0.4 ms per convolution GMAC for every rebuilt architecture."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("qai_hub_models-9.9.9.dist-info/METADATA", "Name: qai_hub_models\nVersion: 9.9.9\n")
        for model, row in features.items():
            archive.writestr(f"qai_hub_models/models/{model}/perf.yaml",
                             _perf_yaml(round(0.2 + 0.4 * row["macs_conv"] / 1e9, 6)))
    return path


def test_refit_recovers_known_costs_and_records_its_sources(tmp_path):
    features = read_features(default_folder() / FEATURE_TABLE)
    out = tmp_path / "predictor"
    out.mkdir()
    shutil.copy(default_folder() / FEATURE_TABLE, out / FEATURE_TABLE)  # known features: nothing is rebuilt

    result = run_edgebuild("refit-latency", str(_wheel(tmp_path / "fake.whl", features)), "--out", str(out),
                           cwd=tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    predictor = json.loads((out / PREDICTOR_FILE).read_text())
    assert predictor["source"]["version"] == "9.9.9"
    assert predictor["source"]["table_sha256"] == file_sha256(out / PUBLISHED_TABLE)
    assert list(predictor["fits"]) == [DEVICE] and list(predictor["fits"][DEVICE]) == ["tflite"]
    fitted = predictor["fits"][DEVICE]["tflite"]["float"]
    assert fitted["overhead_ms"] == pytest.approx(0.2, abs=1e-3)
    assert fitted["costs_ms"]["macs_conv"] == pytest.approx(0.4, abs=1e-3)
    assert fitted["lomo"]["models"] == len(features) and fitted["lomo"]["p90_ape_pct"] < 0.5
    rows = read_published(out / PUBLISHED_TABLE)
    assert {row["source_path"] for row in rows} == {f"qai_hub_models/models/{m}/perf.yaml" for m in features}


def test_a_file_that_is_not_a_wheel_is_refused_in_one_line(tmp_path):
    (tmp_path / "bad.whl").write_text("not a zip")

    result = run_edgebuild("refit-latency", "bad.whl", "--out", str(tmp_path), cwd=tmp_path)

    assert_one_line_error(result, 2, "bad.whl", "qai-hub-models wheel")
