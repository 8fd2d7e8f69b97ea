"""A few hundred mutated models through bench/fuzz.py, the benchmark's own code: the reader and the
static checks for all of them, `edgebuild verify` for two; every case a verdict or a one-line
refusal, none a crash or a hang (the benchmark runs 10,000)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parents[2] / "bench" / "fuzz.py"
SEEDS = ("float32", "float16", "int8", "multi_io", "every_input_dtype", "custom_op")
CASES = 300


def test_mutated_models_end_in_a_verdict_or_one_line(model_file, tmp_path):
    seeds = [str(model_file(kind)) for kind in SEEDS]
    out = tmp_path / "fuzz.json"
    finished = subprocess.run([sys.executable, str(FUZZ), "--cases", str(CASES), "--seconds", "60", "--seed", "21",
                               "--cli-sample", "2", "--seed-models", *seeds, "--out", str(out)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.exists(), finished.stderr[-3000:]
    results = json.loads(out.read_text())
    assert (results["crashes"], results["hangs"]) == (0, 0), results["findings"]
    assert results["cases"] == CASES and results["verdicts"] + results["refusals"] == CASES
    assert results["verdicts"] > 0 and results["refusals"] > 0  # the mutations reach both ends
    assert results["cli"]["cases"] == 3 and results["cli"]["failures"] == 0, results["cli_findings"]  # + the largest claim
    assert results["peak_rss_cli_bytes"] < 1 << 30  # the largest claim was not allocated
    assert finished.returncode == 0, finished.stderr[-3000:]
