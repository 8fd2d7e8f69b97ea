"""Every bundled profile builds the digits recipe, or refuses it with one clear reason."""

from __future__ import annotations

import json

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from edgebuild.config.targets import load_targets
from edgebuild.config.profile import load_profile, profile_names


def test_bundled_profiles_span_more_than_int8():
    _, _, targets = load_targets("digits", ["all"])

    assert len(targets) >= 4
    assert {target.precision for target in targets} - {"int8"}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """Training runs once; each profile then converts and verifies."""
    return tmp_path_factory.mktemp("digits_cache")


@pytest.mark.slow
@pytest.mark.parametrize("profile", profile_names())
def test_digits_builds_or_is_refused_cleanly(profile, shared_cache, tmp_path):
    result = run_edgebuild("build", "digits", "--profile", profile, "--out", "out", "--json", cwd=tmp_path,
                           cache=shared_cache, timeout=3600)

    assert "Traceback" not in result.stdout + result.stderr
    if any(line.startswith("error:") for line in result.stderr.splitlines()):
        assert_one_line_error(result, result.returncode)
        assert result.returncode in (1, 2)
        return
    summary = json.loads(result.stdout.strip().splitlines()[-1])["profiles"][0]
    assert result.returncode == (0 if summary["passed"] else 1)
    assert summary["passed"] or (summary["failed_checks"] and all(summary["failed_checks"]))
    report = json.loads((tmp_path / "out" / "digits" / profile / "report.json").read_text())
    assert report["precision"] in load_profile(profile)[0].precisions
