"""Four builds of two recipes at once on one cache, each its own process: all succeed, every stage key
is computed by exactly one of them (the others wait on its lock and reuse the entry), and nothing is
left locked or half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from build_system_helpers import held_locks
from tiny_recipe import TINY_RECIPE

SHARED = {"data", "teacher", "distill", "prune"}  # the recipes differ from QAT on
# The second recipe: its own name (its own output folder) and QAT learning rate, the rest the same.
OTHER_RECIPE = (TINY_RECIPE.replace("name: tiny", "name: tiny_b")
                .replace("{epochs: 1, batch_size: 64, learning_rate: 0.001}",
                         "{epochs: 1, batch_size: 64, learning_rate: 0.0005}"))


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _keys(events: list[dict], *kinds: str) -> dict[str, str]:
    return {e["stage"]: e["key"] for e in events if e.get("event") in kinds and "key" in e}


@pytest.mark.slow
def test_four_builds_of_two_recipes_on_one_cache_compute_each_stage_once(tmp_path):
    assert OTHER_RECIPE.count("0.0005") == 1 and "tiny_b" in OTHER_RECIPE
    (tmp_path / "a.yaml").write_text(TINY_RECIPE)
    (tmp_path / "b.yaml").write_text(OTHER_RECIPE)
    env = {**os.environ, "EDGEBUILD_CACHE": str(tmp_path / "cache")}
    builds = [subprocess.Popen([sys.executable, "-m", "edgebuild", "build", recipe, "--profile", "android-flagship",
                                "--out", f"out{n}", "--json"], cwd=tmp_path, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
              for n, recipe in enumerate(("a.yaml", "b.yaml", "a.yaml", "b.yaml"))]
    finished = [build.communicate(timeout=1800) for build in builds]
    assert [build.returncode for build in builds] == [0] * 4, [stderr[-2000:] for _, stderr in finished]
    events = [_events(stdout) for stdout, _ in finished]

    computed = Counter(e["key"] for build in events for e in build  # the gate ("verify") is no cached stage: no key
                       if e.get("event") == "stage_finished" and "key" in e)
    assert [key for key, times in computed.items() if times > 1] == [], "a stage was computed twice"
    used = [_keys(build, "stage_finished", "stage_cached") for build in events]
    for stage in SHARED:
        assert len({keys[stage] for keys in used}) == 1, f"{stage} is not shared by the two recipes"
    assert used[0]["qat"] != used[1]["qat"] and used[0]["qat"] == used[2]["qat"]
    artifacts = [(tmp_path / f"out{n}" / name / "android-flagship/model.tflite").read_bytes()
                 for n, name in enumerate(("tiny", "tiny_b", "tiny", "tiny_b"))]
    assert artifacts[0] == artifacts[2] and artifacts[1] == artifacts[3]
    assert held_locks(tmp_path / "cache") == []
    assert [p for p in tmp_path.rglob("*") if ".tmp" in p.name or p.name.endswith(".partial")] == []
