"""How commands show progress: rich bars on a terminal, lines in a CI log, JSON lines for machines, or
only the verdict (`--quiet`)."""

from __future__ import annotations

import json
import sys
import time
from contextlib import contextmanager
from typing import Iterator

import click

from edgebuild.base.events import Events

# What a stage is doing while it runs, for the stages whose progress is not counted in epochs.
DOING = {"data": "reading, resizing and splitting the data", "fit": "predicting each candidate's artifact",
         "model": "measuring the float model", "soft_targets": "computing the teacher's soft targets",
         "export": "exporting a SavedModel", "convert": "converting with the TFLite converter",
         "measure": "timing the model in the interpreter (a child process)",
         "verify": "checking the artifact against the profile"}
PLAIN_EPOCH_LINE_S = 5.0  # a CI log gets an epoch line at most this often per stage, and the last one


def output_options(command):
    """`--quiet`, `--json` and `--verbose`, the same on every long-running command."""
    command = click.option("--verbose", "-v", is_flag=True,
                           help="Let TensorFlow's native log lines (oneDNN, CUDA probes, converter) through to "
                                "stderr.")(command)
    command = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON on stdout: progress events as JSON lines, then the result.")(command)
    return click.option("--quiet", "-q", is_flag=True, help="Print the verdict line only.")(command)


def verdict_line(report) -> str:
    """`PASS tiny for android-flagship`, or FAIL and the reasons: all `--quiet` prints."""
    if report.passed:
        return f"PASS {report.title}"
    return f"FAIL {report.title}: " + "; ".join(check.reason or check.name for check in report.failed_checks())


def result_row(result) -> dict:
    """One published profile, as the summary table and `--json` show it."""
    report = result.report
    return {"profile": result.profile, "passed": result.passed, "out_dir": str(result.out_dir),
            "precision": report.precision, "size_bytes": report.artifact.size_bytes,
            "accuracy": report.accuracy.artifact if report.accuracy else None,
            "failed_checks": [check.reason or check.name for check in report.failed_checks()]}


def print_results(results, quiet: bool) -> None:
    """The verdict line per profile with `--quiet`, else a table of every profile (build and convert alike)."""
    if quiet:
        for result in results:
            click.echo(verdict_line(result.report))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("profile", "verdict", "precision", "size B", "top-1", "output")
    for row in map(result_row, results):
        verdict = "PASS" if row["passed"] else "FAIL: " + "; ".join(row["failed_checks"])
        accuracy = f"{row['accuracy']:.4f}" if row["accuracy"] is not None else "-"
        table.add_row(row["profile"], verdict, row["precision"], str(row["size_bytes"]), accuracy, row["out_dir"])
    Console(width=160).print(table)


@contextmanager
def progress_events(quiet: bool, as_json: bool) -> Iterator[Events]:
    if as_json:
        yield Events(lambda event: print(json.dumps(event, default=str), flush=True))
    elif quiet:
        yield Events()
    elif not sys.stderr.isatty():
        yield Events(_PlainLines())
    else:
        with _RichProgress() as sink:
            yield Events(sink)


def _label(event: dict) -> str:
    """`convert android-flagship`: every line of a matrix build names its profile."""
    return f"{event['stage']} {event['profile']}" if event.get("profile") else event["stage"]


def _figures(event: dict) -> str:
    accuracy = f" acc {event['accuracy']:.4f}" if isinstance(event.get("accuracy"), float) else ""
    return f"loss {event['loss']:.4f}{accuracy}" if "loss" in event else accuracy.strip()


class _PlainLines:
    """Lines for a CI log: each stage's start and end, and its epochs at most every PLAIN_EPOCH_LINE_S."""

    def __init__(self):
        self._last_line: dict[str, float] = {}

    def __call__(self, event: dict) -> None:
        kind, label = event["event"], _label(event) if "stage" in event else ""
        if kind == "stage_started":
            click.echo(f"[{label}] {DOING.get(event['stage'], 'training')}", err=True)
            self._last_line[label] = time.monotonic()
        elif kind == "epoch_finished" and (event["epoch"] == event["epochs"] or
                                           time.monotonic() - self._last_line.get(label, 0) >= PLAIN_EPOCH_LINE_S):
            click.echo(f"[{label}] epoch {event['epoch']}/{event['epochs']} {_figures(event)}", err=True)
            self._last_line[label] = time.monotonic()
        elif kind in ("stage_finished", "stage_cached"):
            verb = "cached" if kind == "stage_cached" else "done"
            figures = f" {_figures(event)}" if _figures(event) else ""
            click.echo(f"[{label}] {verb} in {event.get('seconds', 0):.1f} s{figures}", err=True)
        elif kind == "stage_shared":
            click.echo(f"[{label}] shared with {event['shared_with']}", err=True)


class _RichProgress:
    """One bar per stage and profile: training stages count batches (ETA from them), with loss and top-1."""

    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]{task.description:<28}"), BarColumn(),
                                  TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), TextColumn("eta"),
                                  TimeRemainingColumn(), console=Console(stderr=True))
        self._progress.__enter__()
        self._tasks: dict[str, int] = {}
        return self._on_event

    def __exit__(self, *exc_info) -> None:
        self._progress.__exit__(*exc_info)

    def _on_event(self, event: dict) -> None:
        kind = event["event"]
        if "stage" not in event:
            return
        label = _label(event)
        if kind == "stage_started":
            self._tasks[label] = self._progress.add_task(label, total=None, detail=DOING.get(event["stage"], ""))
        elif kind == "stage_shared":
            task = self._progress.add_task(label, total=1, detail=f"shared with {event['shared_with']}")
            self._progress.update(task, completed=1)  # finished at once: its clock stops
        elif kind in ("batch_finished", "epoch_finished") and label in self._tasks:
            done = (event["epoch"] - 1) * event["batches"] + event["batch"]
            self._progress.update(self._tasks[label], total=event["epochs"] * event["batches"], completed=done,
                                  detail=f"epoch {event['epoch']}/{event['epochs']} {_figures(event)}")
        elif kind in ("stage_finished", "stage_cached") and label in self._tasks:
            detail = "cached" if kind == "stage_cached" else f"done in {event.get('seconds', 0):.1f} s"
            figures = _figures(event)
            self._progress.update(self._tasks[label], total=1, completed=1,
                                  detail=f"{detail}  {figures}" if figures else detail)
