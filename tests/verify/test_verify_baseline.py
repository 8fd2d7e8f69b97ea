"""--baseline: a release grown past the profile's tolerances fails with the deltas printed."""

from __future__ import annotations

import json

import pytest

from cli_runner import assert_one_line_error
from edgebuild.config.profile import Tolerances
from edgebuild.verify.baseline import Baseline, BaselineReport, compare_with_baseline
from edgebuild.converters.artifact import read_artifact
from verify_cli import checks_of, report_of, verify


@pytest.fixture
def earlier_report(model_file, tmp_path):
    """A real `verify --json` report of the int8 model, for a test to edit into the baseline it needs."""
    return report_of(verify(model_file("int8"), "android-flagship", "--json", cwd=tmp_path))


def _write(report: dict, path) -> str:
    path.write_text(json.dumps(report))
    return str(path)


def test_growth_beyond_the_tolerances_fails_and_prints_the_deltas(model_file, tmp_path, earlier_report):
    earlier_report["artifact"]["size_bytes"] //= 2
    earlier_report["latency_ms"]["p50"] /= 10
    baseline = _write(earlier_report, tmp_path / "baseline.json")

    result = verify(model_file("int8"), "android-flagship", "--baseline", baseline, cwd=tmp_path)

    assert result.returncode == 1 and "Traceback" not in result.stderr
    size_now = model_file("int8").stat().st_size
    growth_pct = (size_now - earlier_report["artifact"]["size_bytes"]) / earlier_report["artifact"]["size_bytes"] * 100
    assert f"| size_bytes | {earlier_report['artifact']['size_bytes']} | {size_now} |" in result.stdout
    assert f"({growth_pct:+.1f}%) | +5% |" in result.stdout
    assert "| size_growth_pct |" in result.stdout and "| host_latency_p50_growth_pct |" in result.stdout
    assert result.stdout.count("**FAIL**") == 2


def test_no_growth_passes(model_file, tmp_path, earlier_report):
    earlier_report["latency_ms"]["p50"] *= 10  # host timings jitter; a 10x slower baseline cannot flake
    baseline = _write(earlier_report, tmp_path / "baseline.json")

    result = verify(model_file("int8"), "android-flagship", "--json", "--baseline", baseline, cwd=tmp_path)

    assert result.returncode == 0, result.stdout
    checks = checks_of(result)
    assert checks["size_growth_pct"]["value"] == 0 and checks["host_latency_p50_growth_pct"]["value"] < 0
    assert report_of(result)["baseline"]["path"] == baseline


@pytest.mark.parametrize("content, fragment", [
    (None, "cannot read the baseline report"),
    ("not json", "the baseline is not a JSON report"),
    ('["a list"]', "expected a JSON object"),
    ('{"artifact": {"sha256": "x"}}', "artifact.size_bytes: required field is missing"),
])
def test_a_missing_or_invalid_baseline_is_exit_2_naming_it(model_file, tmp_path, content, fragment):
    baseline = tmp_path / "old-report.json"
    if content is not None:
        baseline.write_text(content)

    result = verify(model_file("int8"), "android-flagship", "--baseline", str(baseline), cwd=tmp_path)

    assert_one_line_error(result, 2, "old-report.json", fragment)


def test_latency_measured_with_other_threads_is_not_compared(model_file, tmp_path):
    artifact = read_artifact(model_file("int8"))
    earlier = BaselineReport.model_validate({"artifact": {"size_bytes": artifact.info.size_bytes},
                                             "latency_ms": {"p50": 1.0, "threads": 4}})
    comparison = compare_with_baseline(Baseline(tmp_path / "b.json", earlier), artifact,
                                       {"p50": 9.0, "threads": 2}, Tolerances(), "android-flagship")

    assert [check.name for check in comparison.checks] == ["size_growth_pct"]
    assert comparison.section["not_compared"] == ["host latency: the baseline ran 4 threads, this run 2"]


def test_growth_exactly_at_the_tolerance_passes(model_file, tmp_path):
    artifact = read_artifact(model_file("int8"))
    earlier = BaselineReport.model_validate({"artifact": {"size_bytes": artifact.info.size_bytes},
                                             "latency_ms": {"p50": 1.0, "threads": 1}})
    comparison = compare_with_baseline(Baseline(tmp_path / "b.json", earlier), artifact,
                                       {"p50": 1.25, "threads": 1}, Tolerances(latency_growth_pct=25), "x")

    assert [(check.value, check.passed) for check in comparison.checks] == [(0.0, True), (25.0, True)]


def test_a_baseline_without_latency_compares_size_only(model_file, tmp_path):
    artifact = read_artifact(model_file("int8"))
    earlier = BaselineReport.model_validate({"artifact": {"size_bytes": artifact.info.size_bytes}})
    comparison = compare_with_baseline(Baseline(tmp_path / "b.json", earlier), artifact,
                                       {"p50": 1.0, "threads": 1}, Tolerances(), "x")

    assert [check.name for check in comparison.checks] == ["size_growth_pct"]
    assert comparison.section["not_compared"] == ["host latency: the baseline has none"]
