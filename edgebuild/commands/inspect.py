"""`edgebuild inspect MODEL`: what is inside a .tflite, without running it."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("inspect")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def command(model: Path, as_json: bool) -> None:
    """Inputs and outputs (shape, dtype, quantization), ops, size, parameters, edgebuild metadata."""
    from edgebuild.converters.metadata import read_json_metadata
    from edgebuild.converters.artifact import read_artifact

    artifact = read_artifact(model)
    summary = {**artifact.as_dict(), "arena_estimate_bytes": artifact.arena_bytes,
               "metadata": read_json_metadata(model.read_bytes())}
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"{model}: {summary['size_bytes']} B (gzip -9 {summary['gzip_bytes']} B), "
               f"{summary['precision']}, {summary['parameters']} parameters, sha256 {summary['sha256'][:16]}…")
    for role in ("inputs", "outputs"):
        for tensor in summary[role]:
            click.echo(f"  {role[:-1]:<6} {tensor['name']}: {tensor['shape']} {tensor['dtype']}"
                       f"{_quantization(tensor['quantization'])}")
    click.echo("  ops    " + ", ".join(f"{name}×{count}" for name, count in summary["ops"].items()))
    click.echo(f"  arena  ≈{summary['arena_estimate_bytes']} B of activations")
    metadata = summary["metadata"]
    click.echo("  metadata " + (json.dumps(metadata, indent=2).replace("\n", "\n  ") if metadata else "none"))


def _quantization(quantization: dict | None) -> str:
    if not quantization or not quantization.get("scale"):
        return ""
    return f" (scale {quantization['scale'][0]:.6g}, zero point {quantization['zero_point'][0]})"
