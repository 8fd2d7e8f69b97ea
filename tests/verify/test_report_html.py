"""report.html in a real headless browser: it loads with no console message, its charts are in the DOM, and a
screenshot is written in the test's temp folder. Also: `edgebuild report --html` on any report."""

from __future__ import annotations

import json
import re

import pytest

from browser import chromium_present, load, screenshot
from cli_runner import assert_one_line_error, run_edgebuild
from verify_cli import verify

needs_chromium = pytest.mark.skipif(not chromium_present(), reason="chromium is not installed (.ci/run installs it)")
BUILD_CHARTS = ("stages-accuracy", "stages-size_bytes", "stages-sparsity", "layers-bytes", "layers-macs",
                "latency-histogram")
# Anything that would fetch: a src or href, a CSS url() or @import. The SVG namespace URI fetches nothing.
FETCHES = re.compile(r"\b(?:src|href)\s*=|url\(|@import", re.IGNORECASE)


def _chart_ids(dom: str) -> set[str]:
    return set(re.findall(r'<svg id="([\w-]+)"', dom))


@needs_chromium
def test_the_console_check_sees_a_page_that_logs(tmp_path):
    """The check below can fail: a page with a console message and an uncaught error is seen as such."""
    page = tmp_path / "noisy.html"
    page.write_text("<!DOCTYPE html><script>console.error('noisy'); missing();</script>")
    console = load(page).console
    assert any("noisy" in line for line in console) and any("missing is not defined" in line for line in console)


@needs_chromium
def test_a_build_report_loads_cleanly_with_its_charts(tiny_build, tmp_path):
    html = tiny_build / "out/tiny/android-flagship/report.html"
    assert not FETCHES.search(html.read_text())
    page = load(html)
    assert page.console == []
    assert set(BUILD_CHARTS) <= _chart_ids(page.dom)
    assert page.dom.count('class="mark"') == 3  # p50, p95, p99 on the latency distribution
    assert re.search(r"<h1>tiny for android-flagship <span[^>]*>PASS</span>", page.dom)
    assert page.dom.index("<h2>Checks</h2>") < page.dom.index("<h2>Stages</h2>")  # the verdict and checks first
    screenshot(html, tmp_path / "build-report.png")
    assert (tmp_path / "build-report.png").stat().st_size > 20_000


@needs_chromium
def test_a_verify_report_renders_from_its_json_and_an_unknown_section_as_a_table(tiny_build, tmp_path):
    model = tiny_build / "out/tiny/android-flagship/model.tflite"
    result = verify(model, "android-flagship", "--json", "--data", "sklearn:digits", "--html", "verify.html",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    report["npu_placement"] = [{"op": "CONV_2D", "where": "NPU"}, {"op": "MEAN", "where": "CPU"}]  # another branch's
    # Not named report.json: the session's schema check would rightly refuse the section this version lacks.
    (tmp_path / "newer.json").write_text(json.dumps(report))
    rendered = run_edgebuild("report", "newer.json", "--html", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    for html in (tmp_path / "verify.html", tmp_path / "newer.html"):
        page = load(html)
        assert page.console == []
        assert {"layers-bytes", "layers-macs", "latency-histogram"} <= _chart_ids(page.dom)
    assert "<h2>Npu placement</h2>" in page.dom and "<td>NPU</td>" in page.dom
    screenshot(tmp_path / "newer.html", tmp_path / "verify-report.png")
    assert (tmp_path / "verify-report.png").stat().st_size > 20_000


def test_report_refuses_a_file_that_is_no_report(tmp_path):
    (tmp_path / "list.json").write_text("[]")
    assert_one_line_error(run_edgebuild("report", "list.json", "--html", cwd=tmp_path), 2, "list.json",
                          "not an edgebuild report")
