"""`edgebuild build RECIPE --profile NAME ...`"""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.device_options import device_options, device_run
from edgebuild.commands.progress import output_options, progress_events
from edgebuild.commands.recipe_options import cache_dir_option, seed_option, strategy_option


@click.command("build")
@click.argument("recipe")
@click.option("--profile", "profiles", multiple=True, required=True,
              help="Bundled profile name or YAML path; repeat for several devices; `all` for every bundled one.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output root: OUT/<recipe>/<profile>/.")
@seed_option
@cache_dir_option
@strategy_option
@device_options
@output_options
def command(recipe: str, profiles: tuple[str, ...], out_dir: Path, seed: int | None, cache_dir: Path | None,
            strategy: str | None, device: str | None, device_python: str | None, ssh_config: str | None,
            quiet: bool, as_json: bool) -> None:
    """Train, convert and verify RECIPE (a bundled name or a YAML path) for each --profile."""
    from edgebuild.app.build import build
    with native_stderr_captured(), progress_events(quiet, as_json) as events:
        results = build(recipe, list(profiles), out_dir, seed=seed, cache_root=cache_dir, strategy=strategy,
                        device_run=device_run(device, device_python, ssh_config), events=events)
    summary = [{"profile": r.profile, "passed": r.passed, "out_dir": str(r.out_dir),
                "precision": r.report.precision, "size_bytes": r.report.artifact.size_bytes,
                "accuracy": r.report.accuracy.artifact, "failed_checks": _failed(r.report)} for r in results]
    if as_json:
        click.echo(json.dumps({"event": "build_finished", "passed": all(r.passed for r in results),
                               "profiles": summary}))
    elif not quiet:
        _print_table(summary)
    click.get_current_context().exit(0 if all(r.passed for r in results) else 1)


def _print_table(summary: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("profile", "verdict", "precision", "size B", "top-1", "output")
    for row in summary:
        verdict = "PASS" if row["passed"] else "FAIL: " + "; ".join(row["failed_checks"])
        accuracy = f"{row['accuracy']:.4f}" if row["accuracy"] is not None else "-"
        table.add_row(row["profile"], verdict, row["precision"], str(row["size_bytes"]), accuracy, row["out_dir"])
    Console(width=160).print(table)


def _failed(report) -> list[str]:
    return [check.reason or check.name for check in report.failed_checks()]
