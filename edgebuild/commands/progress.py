"""How commands show progress: rich bars on a terminal, JSON lines for machines, or nothing."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Iterator

import click

from edgebuild.base.events import Events


def output_options(command):
    """`--quiet` and `--json`, the same on every long-running command."""
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (events as JSON lines).")(command)
    return click.option("--quiet", "-q", is_flag=True, help="No progress output.")(command)


@contextmanager
def progress_events(quiet: bool, as_json: bool) -> Iterator[Events]:
    if as_json:
        yield Events(lambda event: print(json.dumps(event, default=str), flush=True))
    elif quiet or not sys.stderr.isatty():
        yield Events(_plain_lines if not quiet else _ignore)
    else:
        with _RichProgress() as sink:
            yield Events(sink)


def _ignore(event: dict) -> None:
    pass


def _plain_lines(event: dict) -> None:
    """One line per stage on a non-terminal (CI logs), no per-epoch noise."""
    kind = event["event"]
    if kind in ("stage_finished", "stage_cached"):
        extra = f" accuracy {event['accuracy']:.4f}" if isinstance(event.get("accuracy"), float) else ""
        verb = "cached" if kind == "stage_cached" else "done"
        click.echo(f"[{event['stage']}] {verb} in {event.get('seconds', 0):.1f} s{extra}", err=True)


class _RichProgress:
    def __enter__(self):
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._progress = Progress(TextColumn("[bold]{task.description:<10}"), BarColumn(),
                                  TextColumn("{task.completed}/{task.total} {task.fields[detail]}"),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
        self._progress.__enter__()
        self._tasks: dict[str, int] = {}
        return self._on_event

    def __exit__(self, *exc_info) -> None:
        self._progress.__exit__(*exc_info)

    def _on_event(self, event: dict) -> None:
        stage = event.get("stage")
        kind = event["event"]
        if kind == "stage_started":
            self._tasks[stage] = self._progress.add_task(stage, total=None, detail="")
        elif kind == "epoch_finished" and stage in self._tasks:
            self._progress.update(self._tasks[stage], total=event["epochs"], completed=event["epoch"],
                                  detail=f"loss {event['loss']:.4f}")
        elif kind in ("stage_finished", "stage_cached") and stage in self._tasks:
            detail = "cached" if kind == "stage_cached" else f"{event.get('seconds', 0):.1f} s"
            if isinstance(event.get("accuracy"), float):
                detail += f"  acc {event['accuracy']:.4f}"
            self._progress.update(self._tasks[stage], total=1, completed=1, detail=detail)
