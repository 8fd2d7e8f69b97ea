"""`edgebuild verify MODEL --profile NAME`: the release gate for any .tflite."""

from __future__ import annotations

from pathlib import Path

import click

from edgebuild.commands.progress import output_options


@click.command("verify")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--profile", required=True, help="Bundled profile name or YAML path.")
@click.option("--data", "data_source", default=None,
              help="Labelled data (sklearn:digits, image folder, .npz) to measure top-1 of a classifier.")
@click.option("--min-accuracy", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@output_options
def command(model: Path, profile: str, data_source: str | None, min_accuracy: float, quiet: bool,
            as_json: bool) -> None:
    """Check MODEL against a device profile; exit 0 pass, 1 a check failed, 2 unusable input."""
    from edgebuild import report as reports
    from edgebuild.profile import load_profile
    from edgebuild.tfenv import tool_versions
    from edgebuild.verify.gate import AccuracyLimits, verify_model

    device, _ = load_profile(profile)
    data = _load_data(model, data_source) if data_source else None
    verification = verify_model(model, device, data=data, limits=AccuracyLimits(min_top1=min_accuracy))
    report = {"title": f"{model.name} on {device.name}", "profile": device.name,
              **reports.verification_sections(verification),
              "accuracy": verification.accuracy, "versions": tool_versions()}
    if as_json:
        click.echo(reports.report_json(report).decode(), nl=False)
    elif not quiet:
        click.echo(reports.to_markdown(report), nl=False)
    click.get_current_context().exit(0 if verification.passed else 1)


def _load_data(model: Path, source: str):
    """The source resized to the model's input height and width."""
    from edgebuild.errors import BadInput
    from edgebuild.toolchain.data import read_source, resize_images
    from edgebuild.verify.checks import read_artifact

    inputs = read_artifact(model).info.inputs
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise BadInput(f"{model}: --data needs a single-input image classifier (NHWC), got inputs "
                       f"{[list(t.shape) for t in inputs]}")
    raw = read_source(source)
    return resize_images(raw.images, tuple(inputs[0].shape[1:3])), raw.labels
