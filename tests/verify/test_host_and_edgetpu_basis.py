"""Latency and memory checks state their basis: host timing says when the host has fewer cores than the
profile asks for, and the Coral profile's Edge TPU compile is reported as not run without the compiler."""

from __future__ import annotations

import shutil

import pytest

from edgebuild.base.host import describe_host
from verify_cli import checks_by_name, report_of, verify


@pytest.mark.skipif(shutil.which("edgetpu_compiler") is not None, reason="edgetpu_compiler is installed here")
def test_coral_without_the_compiler_reports_it_not_run_and_more_threads_than_cores_says_so(model_file, tmp_path):
    cores = describe_host().logical_cores
    result = verify(model_file("int8"), "coral-edgetpu", "--threads", str(cores + 1), "--json", cwd=tmp_path)

    report = report_of(result)
    checks = checks_by_name(report)
    compile_check = checks["edgetpu_compile"]
    assert (compile_check["ran"], compile_check["passed"]) == (False, False)
    assert compile_check["reason"] == "edgetpu compile: not run (edgetpu_compiler not installed)"
    assert report["passed"] and result.returncode == 0  # not run: neither passed nor failed
    assert report["latency_ms"]["threads"] == cores
    expected = f"the profile asks for {cores + 1} threads but this host has {cores} cores: timed with {cores} threads"
    assert checks["host_latency_p50_ms"]["reason"].endswith(expected)
    assert expected in report["latency_ms"]["note"]
