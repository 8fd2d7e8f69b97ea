"""What verify prints and writes: JSON alone on stdout, JUnit XML, the human table, accuracy with --data."""

from __future__ import annotations

from importlib.metadata import version
from xml.etree import ElementTree

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.converters.arena import arena_estimate_bytes
from edgebuild.converters.flatbuffer import read_model_file
from edgebuild.base.host import describe_host
from edgebuild.config.profile import load_profile
from verify_cli import checks_by_name, report_of, verify


def test_json_alone_on_stdout_with_the_default_timing(model_file, tmp_path):
    path = model_file("int8")
    result = run_edgebuild("verify", str(path), "--profile", "android-flagship", "--json", cwd=tmp_path)

    report = report_of(result)
    assert {"passed", "checks", "artifact", "latency_ms", "memory", "versions"} <= set(report)
    latency = report["latency_ms"]
    assert latency["runs"] >= 50 and latency["warmup"] >= 1 and latency["where"] == "host"
    assert latency["p50"] <= latency["p95"] <= latency["p99"]
    assert latency["threads"] == min(load_profile("android-flagship")[0].latency.threads, describe_host().logical_cores)
    assert latency["runtime"] == {"name": "ai-edge-litert", "version": version("ai-edge-litert")}
    assert "not on the android-flagship device" in latency["note"]


def test_memory_reports_both_measures_and_checks_the_larger(model_file, tmp_path):
    path = model_file("float32")
    report = report_of(verify(path, "iphone", "--json", cwd=tmp_path))

    memory, info = report["memory"], read_model_file(path)
    assert memory["estimated_arena_bytes"] == arena_estimate_bytes(info)
    assert memory["estimated_bytes"] == arena_estimate_bytes(info) + info.size_bytes
    assert memory["measured_rss_delta_bytes"] == memory["measured"]["model_rss_bytes"] > 0
    assert memory["checked_bytes"] == max(memory["estimated_bytes"], memory["measured_rss_delta_bytes"])
    assert checks_by_name(report)["peak_memory_bytes"]["value"] == memory["checked_bytes"]


def test_junit_has_one_testcase_per_check_and_marks_failures(model_file, tmp_path):
    junit = tmp_path / "reports" / "verify.xml"
    result = verify(model_file("float32"), "android-flagship", "--json", "--junit", str(junit), cwd=tmp_path)

    assert result.returncode == 1
    checks = report_of(result)["checks"]
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [check["name"] for check in checks]
    failed = {case.get("name"): case.find("failure").get("message") for case in cases if case.find("failure") is not None}
    assert failed == {check["name"]: check["reason"] for check in checks if not check["passed"]}
    assert int(suite.get("tests")) == len(checks) and int(suite.get("failures")) == len(failed)
    assert not list(junit.parent.glob(".*.tmp"))  # written through a temp file, nothing left over


def test_the_human_table_leads_with_the_verdict_and_labels_host_latency(model_file, tmp_path):
    result = verify(model_file("float32"), "iphone", cwd=tmp_path)

    assert result.returncode == 0
    assert result.stdout.startswith("# float32.tflite on iphone: PASS")
    assert "| check | value | limit | basis | result |" in result.stdout
    assert "## Host latency" in result.stdout and "not on the iphone device" in result.stdout


def test_data_measures_a_classifiers_accuracy(model_file, tmp_path):
    from sklearn.datasets import load_digits

    result = verify(model_file("float32"), "iphone", "--json", "--data", "sklearn:digits", "--min-accuracy", "1.0",
                    cwd=tmp_path)

    report = report_of(result)
    check = checks_by_name(report)["accuracy_top1"]
    assert report["accuracy"]["samples"] == len(load_digits().target)
    assert check["value"] == round(report["accuracy"]["artifact"], 4)
    assert check["passed"] is (report["accuracy"]["artifact"] >= 1.0)
    assert result.returncode == (0 if report["passed"] else 1)


def test_data_for_a_model_that_is_no_image_classifier_is_exit_2(model_file, tmp_path):
    result = verify(model_file("multi_io"), "raspberry-pi-4", "--data", "sklearn:digits", cwd=tmp_path)
    assert_one_line_error(result, 2, "--data needs a single-input image classifier")
