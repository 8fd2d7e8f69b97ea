"""`edgebuild fit RECIPE --profile NAME`: every student candidate's predicted artifact, and the choice."""

from __future__ import annotations

import json

import click

from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.recipe_options import cache_dir_option


@click.command("fit")
@click.argument("recipe")
@click.option("--profile", required=True, help="Bundled profile name or YAML path.")
@cache_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the candidates and the choice as JSON.")
def command(recipe: str, profile: str, cache_dir, as_json: bool) -> None:
    """Predict each student candidate's artifact for --profile from its untrained model, before any
    training: size, gzip size, peak memory, MACs, host latency; and choose the student to train.

    Exit 0 when the chosen student is predicted to fit, 1 when it is not (or no candidate is), 2 on bad input.
    """
    from edgebuild.app.build import fit_recipe
    from edgebuild.app.fit import NoCandidateFits
    from edgebuild.base.errors import GateFailed

    with native_stderr_captured():
        try:
            result, recipe_path = fit_recipe(recipe, profile, cache_root=cache_dir)
        except NoCandidateFits as nothing_fits:
            _show(nothing_fits.result, as_json)
            raise
    _show(result, as_json)
    if not result.fits:
        raise GateFailed(result.shortfall(recipe_path))


def _show(result, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    device = any(c.predicted.device_latency_ms is not None for c in result.candidates)
    table = Table("student", "parameters", "MACs", "size B", "gzip B", "peak memory B", "arena B", "host p50 ms",
                  *(["device ms (est.)"] if device else []), "fits", title=f"{result.profile}: {result.precision}, "
                  f"{result.io_dtype} I/O; chosen: {_chosen(result)}")
    for candidate in result.candidates:
        predicted = candidate.predicted
        verdict = "yes" if candidate.fits else "no: " + "; ".join(candidate.reasons)
        figures = (predicted.parameters, predicted.macs, predicted.size_bytes, predicted.gzip_bytes,
                   predicted.peak_memory_bytes, predicted.arena_bytes, f"{predicted.host_latency_ms:.4f}",
                   *([predicted.device_latency_ms] if device else []))
        table.add_row(candidate.name or "-", *(str(figure) for figure in figures), verdict)
    console = Console(width=200)
    console.print(table)
    console.print("Predicted from the untrained students (`--json` says what each figure is); the release gate "
                  "measures the built artifact.")


def _chosen(result) -> str:
    if result.chosen is not None:
        return result.chosen
    from edgebuild.config.recipe import AUTO

    return "none fits" if result.choose == AUTO else "the recipe's one student"
