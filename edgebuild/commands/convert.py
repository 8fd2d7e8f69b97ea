"""`edgebuild convert MODEL.keras --profile NAME --data SOURCE`: a model the user trained, converted and verified."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.progress import output_options, print_results, progress_events
from edgebuild.config.precisions import PRECISIONS
from edgebuild.config.recipe import ConvertConfig, SearchConfig, VerifyConfig

_DEFAULT_SETTINGS, _DEFAULT_LIMITS = ConvertConfig(), VerifyConfig()


@click.command("convert")
@click.argument("model")
@click.option("--profile", required=True, help="Bundled profile name or YAML path.")
@click.option("--data", "data_source", required=True,
              help="Labelled data (sklearn:digits, a folder of class folders, a .npz): calibration draws from its "
                   "training split, accuracy is measured on its test split.")
@click.option("--precision", type=click.Choice(PRECISIONS.names_in_order()), default=None,
              help="Precision to convert to  [default: the profile's first]")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("build"), show_default=True,
              help="Output root: OUT/<model file stem>/<profile>/.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the data split and the calibration draw.")
@click.option("--representative-samples", type=click.IntRange(min=1),
              default=_DEFAULT_SETTINGS.representative_samples, show_default=True,
              help="Training images the int8 calibration sees.")
@click.option("--min-accuracy", type=click.FloatRange(0, 1), default=_DEFAULT_LIMITS.min_accuracy, show_default=True,
              help="Top-1 on --data's test split below this fails the accuracy_top1 check.")
@click.option("--max-drop-from-float", type=click.FloatRange(0, 1), default=_DEFAULT_LIMITS.max_drop_from_float,
              show_default=True, help="Top-1 the artifact may lose against the Keras model.")
@click.option("--search", "search_trials", type=click.IntRange(min=1), default=None,
              help="When the conversion fails the gate, climb the precision ladder the profile allows, trying at "
                   "most this many rungs (the conversion itself first); the first passing rung ships.")
@click.option("--trust-unsafe-format", is_flag=True,
              help="Also load .h5 and SavedModel files and package.module:factory references, which run code when loaded.")
@click.option("--cache-dir", type=click.Path(path_type=Path), default=None, envvar="EDGEBUILD_CACHE",
              help="Stage cache (default: the user cache folder).")
@output_options
def command(model: str, profile: str, data_source: str, precision: str | None, out_dir: Path, seed: int,
            representative_samples: int, min_accuracy: float, max_drop_from_float: float, search_trials: int | None,
            trust_unsafe_format: bool, cache_dir: Path | None, quiet: bool, as_json: bool, verbose: bool) -> None:
    """Convert and verify MODEL for --profile; the same report as `build`.

    MODEL: a .keras file you trained, or a PyTorch model (needs `pip install 'edgebuild[torch]'`):
    a torch.export program (.pt2) or package.module:factory returning an nn.Module
    (with --trust-unsafe-format: importing it runs its code).

    Exit 0 when every check passes, 1 when a check fails, 2 on unusable input.
    """
    from edgebuild.app.convert import convert_model

    with native_stderr_captured(verbose), progress_events(quiet, as_json) as events:
        result = convert_model(model, profile, data_source, out_dir, precision=precision, seed=seed,
                               trust_unsafe_format=trust_unsafe_format,
                               settings=ConvertConfig(representative_samples=representative_samples,
                                                      search=SearchConfig(max_trials=search_trials)
                                                      if search_trials else None),
                               limits=VerifyConfig(min_accuracy=min_accuracy, max_drop_from_float=max_drop_from_float),
                               cache_root=cache_dir, events=events)
    if as_json:
        click.echo(json.dumps({"event": "convert_finished", "passed": result.passed, "out_dir": str(result.out_dir),
                               "report": result.report.model_dump(mode="json")}))
    else:
        print_results([result], quiet)
    click.get_current_context().exit(0 if result.passed else 1)
