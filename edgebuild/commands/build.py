"""`edgebuild build RECIPE --profile NAME ...`"""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.device_options import device_options, device_run
from edgebuild.commands.progress import output_options, print_results, progress_events, result_row
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
            quiet: bool, as_json: bool, verbose: bool) -> None:
    """Train, convert and verify RECIPE (a bundled name or a YAML path) for each --profile."""
    from edgebuild.app.build import build
    with native_stderr_captured(verbose), progress_events(quiet, as_json) as events:
        results = build(recipe, list(profiles), out_dir, seed=seed, cache_root=cache_dir, strategy=strategy,
                        device_run=device_run(device, device_python, ssh_config), events=events)
    if as_json:
        click.echo(json.dumps({"event": "build_finished", "passed": all(r.passed for r in results),
                               "profiles": [result_row(r) for r in results]}))
    else:
        print_results(results, quiet)
    click.get_current_context().exit(0 if all(r.passed for r in results) else 1)
