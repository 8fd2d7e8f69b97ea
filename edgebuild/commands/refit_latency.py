"""`edgebuild refit-latency WHEEL`: refit the phone latency predictor from qai-hub-models' timings."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("refit-latency")
@click.argument("wheel", type=click.Path(path_type=Path))
@click.option("--out", "folder", type=click.Path(path_type=Path), default=None,
              help="Folder for the three files (default: the bundled device_profiles/).")
@click.option("--rebuild", is_flag=True, help="Rebuild and convert every architecture, not only new or changed ones.")
def command(wheel: Path, folder: Path | None, rebuild: bool) -> None:
    """Read the published phone timings from a qai-hub-models wheel (as a zip, never installed), rebuild
    the architectures they time with random weights, and fit one latency model per phone, runtime and
    precision; prints each fit's leave-one-model-out error."""
    from edgebuild.app.latency_refit import refit

    predictor = refit(wheel, folder, rebuild)
    for device, runtimes in predictor["fits"].items():
        for runtime, precisions in runtimes.items():
            for precision, entry in precisions.items():
                error = entry["lomo"]
                click.echo(f"{device:<30} {runtime:<8} {precision:<6} {error['models']:>3} models  "
                           f"median {error['median_ape_pct']:5.1f}%  p90 {error['p90_ape_pct']:5.1f}%")
