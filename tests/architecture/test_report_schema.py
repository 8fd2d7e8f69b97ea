"""The report has one typed model and a committed JSON Schema; what build, convert and verify write
validates against it (tests/conftest.py also checks every report.json the whole test run wrote)."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from cli_runner import run_edgebuild
from edgebuild.verify.report import committed_schema, report_schema


def test_the_committed_schema_is_the_models():
    assert committed_schema() == report_schema(), "run `edgebuild schema report > verify/report.schema.json`"


def test_edgebuild_schema_report_prints_it(tmp_path):
    result = run_edgebuild("schema", "report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == committed_schema()


def test_a_build_report_validates(tiny_build):
    report = json.loads((tiny_build / "out/tiny/android-flagship/report.json").read_text())
    Draft202012Validator(committed_schema()).validate(report)
    assert report["schema_version"] == 1 and report["kind"] == "build"


def test_a_verify_report_validates(tiny_build):
    model = tiny_build / "out/tiny/android-flagship/model.tflite"
    result = run_edgebuild("verify", str(model), "--profile", "android-flagship", "--json", "--runs", "5",
                           "--min-seconds", "0", cwd=tiny_build)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads(result.stdout)
    Draft202012Validator(committed_schema()).validate(report)
    assert report["kind"] == "verify"


def test_the_schema_refuses_a_report_missing_its_verdict(tiny_build):
    report = json.loads((tiny_build / "out/tiny/android-flagship/report.json").read_text())
    del report["passed"]
    errors = list(Draft202012Validator(committed_schema()).iter_errors(report))
    assert [error.message for error in errors] == ["'passed' is a required property"]
