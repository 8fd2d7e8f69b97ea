"""Shared fixtures: a tiny real recipe and one real build of it."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runner import run_edgebuild
from tiny_recipe import TINY_RECIPE


@pytest.fixture
def tiny_recipe(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_RECIPE)
    return path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory) -> Path:
    """One real end-to-end build of the tiny recipe, shared by the tests that read its outputs; its `--json`
    event stream is kept as events.jsonl."""
    root = tmp_path_factory.mktemp("tiny_build")
    (root / "tiny.yaml").write_text(TINY_RECIPE)
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--json", cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    (root / "events.jsonl").write_text(result.stdout)
    return root


def pytest_sessionfinish(session, exitstatus):
    """Every report.json any test wrote validates against the committed schema; a test run whose
    reports do not fails, naming them."""
    import json

    from jsonschema import Draft202012Validator

    from edgebuild.verify.report import committed_schema

    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return
    validator = Draft202012Validator(committed_schema())
    invalid = []
    for path in factory.getbasetemp().rglob("report.json"):
        try:
            errors = [error.message for error in validator.iter_errors(json.loads(path.read_text()))]
        except (OSError, ValueError) as error:
            errors = [f"unreadable: {error}"]
        if errors:
            invalid.append(f"{path}: {errors[0]}")
    if invalid:
        session.config.get_terminal_writer().line("reports that do not validate:\n" + "\n".join(invalid), red=True)
        session.exitstatus = 1
