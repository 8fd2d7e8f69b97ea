"""`edgebuild build RECIPE --profile NAME ...`"""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebuild.commands.progress import output_options, progress_events


@click.command("build")
@click.argument("recipe")
@click.option("--profile", "profiles", multiple=True, required=True,
              help="Bundled profile name or YAML path; repeat for several devices.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output root: OUT/<recipe>/<profile>/.")
@click.option("--seed", type=int, default=None, help="Overrides the recipe's seed.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, envvar="EDGEBUILD_CACHE",
              help="Stage cache (default: the user cache folder).")
@output_options
def command(recipe: str, profiles: tuple[str, ...], out_dir: Path, seed: int | None, cache_dir: Path | None,
            quiet: bool, as_json: bool) -> None:
    """Train, convert and verify RECIPE (a bundled name or a YAML path) for each --profile."""
    from edgebuild.build import build

    with progress_events(quiet, as_json) as events:
        results = build(recipe, list(profiles), out_dir, seed=seed, cache_root=cache_dir, events=events)
    if as_json:
        click.echo(json.dumps({"passed": all(r.passed for r in results),
                               "profiles": [{"profile": r.profile, "passed": r.passed, "out_dir": str(r.out_dir),
                                             "failed_checks": _failed(r.report)} for r in results]}))
    elif not quiet:
        for result in results:
            verdict = "PASS" if result.passed else "FAIL: " + "; ".join(_failed(result.report))
            click.echo(f"{result.profile}: {verdict} → {result.out_dir}")
    click.get_current_context().exit(0 if all(r.passed for r in results) else 1)


def _failed(report: dict) -> list[str]:
    return [check["reason"] or check["name"] for check in report["checks"] if not check["passed"]]
