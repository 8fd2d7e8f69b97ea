"""`edgebuild plan RECIPE --profile NAME ...`: what a build would do, without doing it."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.recipe_options import cache_dir_option, seed_option, strategy_option


@click.command("plan")
@click.argument("recipe")
@click.option("--profile", "profiles", multiple=True, required=True,
              help="Bundled profile name or YAML path; repeat for several devices; `all` for every bundled one.")
@seed_option
@cache_dir_option
@strategy_option
@click.option("--json", "as_json", is_flag=True, help="Print the rows as a JSON list.")
def command(recipe: str, profiles: tuple[str, ...], seed: int | None, cache_dir: Path | None, strategy: str | None,
            as_json: bool) -> None:
    """Print the stage graph: each stage's cache key, cached or not, and why it would run."""
    from edgebuild.app.plan import plan

    with native_stderr_captured():
        rows = plan(recipe, list(profiles), seed=seed, cache_root=cache_dir, strategy=strategy)
    if as_json:
        click.echo(json.dumps([asdict(row) for row in rows], indent=2))
        return
    for row in rows:
        where = f"{row.stage}[{row.profile}]" if row.profile else row.stage
        click.echo(f"{'RUN ' if row.will_run else 'skip'}  {where:<28} {row.key[:12]:<12}  {row.reason}")
