"""What a person watching a build sees: events at least every 2 s while it trains, per-epoch loss and top-1,
each per-profile line naming its profile, and `--quiet` printing the verdict alone."""

from __future__ import annotations

import json

from cli_runner import run_edgebuild

TRAINING = ("teacher", "distill", "prune", "qat")
MAX_SILENCE_S = 2.0


def _events(tiny_build) -> list[dict]:
    return [json.loads(line) for line in (tiny_build / "events.jsonl").read_text().splitlines()
            if line.startswith('{"event": ') and '"time"' in line]


def test_a_training_build_is_never_silent_for_more_than_two_seconds(tiny_build):
    events = _events(tiny_build)
    starts = [e["time"] for e in events if e["event"] == "stage_started" and e["stage"] in TRAINING]
    ends = [e["time"] for e in events if e["event"] == "stage_finished" and e["stage"] in TRAINING]
    assert len(starts) == len(ends) == len(TRAINING)
    during = [e["time"] for e in events if starts[0] <= e["time"] <= ends[-1]]
    silences = [later - earlier for earlier, later in zip(during, during[1:])]
    assert max(silences) <= MAX_SILENCE_S, sorted(silences)[-3:]


def test_every_training_stage_reports_each_epochs_loss_and_top1(tiny_build):
    epochs = [e for e in _events(tiny_build) if e["event"] == "epoch_finished"]
    for stage in TRAINING:
        mine = [e for e in epochs if e["stage"] == stage]
        assert [e["epoch"] for e in mine] == list(range(1, mine[0]["epochs"] + 1))
        assert all(e["loss"] > 0 and 0 <= e["accuracy"] <= 1 for e in mine)


def test_every_per_profile_event_names_its_profile(tiny_build):
    per_profile = [e for e in _events(tiny_build) if e.get("stage") in ("export", "convert", "measure", "verify")]
    assert per_profile and all(e["profile"] == "android-flagship" for e in per_profile)


def test_quiet_prints_the_verdict_line_and_nothing_else(tiny_build):
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--out", "out", "--quiet",
                           cwd=tiny_build)
    assert result.returncode == 0
    assert result.stdout == "PASS tiny for android-flagship\n"
    assert result.stderr == ""


def test_in_a_ci_log_every_line_of_a_matrix_build_names_its_profile(tiny_build):
    """Not a terminal: one line per stage start and end; cortex-m7 shares android-flagship's conversion."""
    result = run_edgebuild("build", "tiny.yaml", "--profile", "android-flagship", "--profile", "cortex-m7",
                           "--out", "out", cwd=tiny_build)
    assert result.returncode in (0, 1), result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    per_profile = [line for line in lines if line.split()[0].strip("[]") in ("export", "convert", "measure", "verify")]
    assert per_profile and all(line.split()[1].rstrip("]") in ("android-flagship", "cortex-m7") for line in per_profile)
    assert "[convert cortex-m7] shared with android-flagship" in lines
    assert "[measure cortex-m7] timing the model in the interpreter (a child process)" in lines
