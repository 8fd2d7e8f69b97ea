"""`edgebuild sensitivity MODEL --data SOURCE`: the ops that lose a model's accuracy at int8, worst first."""

from __future__ import annotations

from pathlib import Path

import click

from edgebuild.commands.native_log import native_stderr_captured


@click.command("sensitivity")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--data", "data_source", required=True,
              help="Labelled data (sklearn:digits, a folder of class folders, a .npz): calibration draws from its "
                   "training split, top-1 is measured on its test split.")
@click.option("--top", type=click.IntRange(min=0), default=3, show_default=True,
              help="How many of the worst ops to re-quantize with that op alone kept float.")
@click.option("--representative-samples", type=click.IntRange(min=1), default=200, show_default=True,
              help="Training images the int8 calibration sees.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the calibration draw and the split.")
def command(model: Path, data_source: str, top: int, representative_samples: int, seed: int) -> None:
    """Per-op int8 error of MODEL (.keras, or a float .tflite) against its float version.

    Each op's output tensor in litert-quantizer's int8 file is compared with the float file's (SNR in
    power ratio, lower is worse; MSE); for the --top worst, the top-1 when that op alone stays float.
    """
    from edgebuild.app.sensitivity import model_sensitivity

    with native_stderr_captured():
        result = model_sensitivity(model, data_source, top=top, representative_samples=representative_samples,
                                   seed=seed)
    click.echo(f"top-1 on {result.samples} test samples: float {result.float_top1:.4f}, int8 {result.int8_top1:.4f}\n")
    click.echo("| rank | op | output tensor | SNR | MSE | top-1 with it float |")
    click.echo("|---|---|---|---|---|---|")
    for rank, error in enumerate(result.ops, 1):
        recovered = "" if error.recovered_accuracy is None else f"{error.recovered_accuracy:.4f}"
        click.echo(f"| {rank} | {error.op.op} | {error.op.tensor} | {error.snr:.3g} | {error.mse:.3g} | {recovered} |")
