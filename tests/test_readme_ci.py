"""The README's GitHub Actions job: a workflow that parses, and whose gate command runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

README = Path(__file__).resolve().parents[1] / "README.md"


def _workflow() -> dict:
    block = re.search(r"```yaml\n(name: model gate\n.*?)```", README.read_text(), re.DOTALL)
    assert block, "the README's workflow example is missing"
    return yaml.safe_load(block.group(1))


def test_the_workflow_gates_with_junit_and_baseline_and_keeps_the_html_report():
    steps = _workflow()["jobs"]["verify"]["steps"]
    gate = next(step for step in steps if step.get("name") == "Gate the model")["run"]
    assert gate.startswith("edgebuild verify ") and "--junit" in gate and "--baseline" in gate
    upload = next(step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "report.html" in upload["with"]["path"].split()
    assert "continue-on-error" not in str(steps)  # exit 1 must fail the job


def test_the_gate_command_runs_as_written(tiny_build, tmp_path):
    gate = next(step for step in _workflow()["jobs"]["verify"]["steps"] if step.get("name") == "Gate the model")
    published = tiny_build / "out/tiny/android-flagship"
    (tmp_path / "models").mkdir()
    (tmp_path / "release").mkdir()
    (tmp_path / "models/model.tflite").write_bytes((published / "model.tflite").read_bytes())
    (tmp_path / "release/report.json").write_text((published / "report.json").read_text())
    command = gate["run"].replace("edgebuild ", f"{sys.executable} -m edgebuild ", 1)
    command = command.replace("--min-accuracy 0.95", "--min-accuracy 0.5")  # the tiny model is no digits model
    finished = subprocess.run(["bash", "-e", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                              timeout=300, env={**os.environ, "EDGEBUILD_CACHE": str(tmp_path / "cache")})
    assert finished.returncode in (0, 1), finished.stderr
    assert all((tmp_path / name).stat().st_size > 0 for name in ("report.html", "report.json", "gate.xml"))
    assert '"baseline": {' in (tmp_path / "report.json").read_text()
