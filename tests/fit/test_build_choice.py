"""`build` follows `fit`: a tight profile trains a smaller candidate, an impossible one trains nothing."""

from __future__ import annotations

import json

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.config.profile import load_profile


def _tight_profile(tmp_path, size_bytes: int) -> str:
    _, path = load_profile("android-flagship")
    text = path.read_text().replace("size_bytes: 16777216 ", f"size_bytes: {size_bytes} ")
    (tmp_path / "tight.yaml").write_text(text.replace("name: android-flagship", "name: tight"))
    return "tight.yaml"


def test_budget_below_every_candidate_fails_before_training(tmp_path):
    result = run_edgebuild("build", "digits", "--profile", _tight_profile(tmp_path, 4000), "--out", "out", "--json",
                           cwd=tmp_path)
    assert_one_line_error(result, 1, "4000")
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert not [e for e in events if e.get("stage") == "teacher"], "training started"
    assert not (tmp_path / "out" / "digits").exists()


@pytest.mark.slow
def test_tight_budget_builds_a_smaller_candidate_that_fits(tmp_path):
    result = run_edgebuild("build", "digits", "--profile", _tight_profile(tmp_path, 17000), "--out", "out",
                           cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads((tmp_path / "out/digits/tight/report.json").read_text())
    assert report["fit"]["chosen"] != "l" and report["artifact"]["size_bytes"] <= 17000
    assert abs(report["fit"]["predicted_vs_measured"]["size_bytes"]["error_pct"]) <= 5
