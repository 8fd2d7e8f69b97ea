"""`edgebuild verify MODEL --profile NAME`: the release gate for any .tflite."""

from __future__ import annotations

from pathlib import Path

import click

from edgebuild.commands.device_options import device_options, device_run
from edgebuild.commands.native_log import native_stderr_captured
from edgebuild.commands.progress import output_options, verdict_line


@click.command("verify")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--profile", required=True, help="Bundled profile name or YAML path.")
@click.option("--data", "data_source", default=None,
              help="Labelled data (sklearn:digits, image folder, .npz) to measure top-1 of a classifier.")
@click.option("--min-accuracy", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Top-1 on --data below this fails the accuracy_top1 check.")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="An earlier report.json (build or verify --json): fail on size or host-latency growth "
                   "beyond the profile's tolerances.")
@click.option("--junit", type=click.Path(path_type=Path), default=None,
              help="Also write the checks as JUnit XML to this file, one testcase per check (not written when "
                   "MODEL is unusable: exit 2).")
@click.option("--html", "html", type=click.Path(path_type=Path), default=None,
              help="Also write the report as one self-contained HTML page (charts inline, no network) to this file.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Interpreter threads for host timing  [default: the profile's latency.threads]")
@click.option("--runs", type=click.IntRange(min=1), default=50, show_default=True,
              help="Timed runs after warm-up, at least.")
@click.option("--min-seconds", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Keep timing until this many seconds have passed too.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds the child process running the model may take before it is killed (a failed check).")
@device_options
@output_options
def command(model: Path, profile: str, data_source: str | None, min_accuracy: float, baseline: Path | None,
            junit: Path | None, html: Path | None, threads: int | None, runs: int, min_seconds: float, timeout_s: float,
            device: str | None, device_python: str | None, ssh_config: str | None, quiet: bool,
            as_json: bool, verbose: bool) -> None:
    """Check MODEL against a device profile; exit 0 pass, 1 a check failed, 2 unusable input.

    Latency is measured on this host in a child process, labelled host latency: not the device's.
    An Ethos-U profile also compiles MODEL with Vela (ops on the NPU, estimated time, SRAM, flash:
    basis vendor-estimate); a microcontroller profile runs it in TFLite Micro (its arena, its ops,
    top-1 there: basis micro-runtime).
    """
    from edgebuild.app.verify import Timing, verify_file
    from edgebuild.base.files import write_atomically
    from edgebuild.verify.junit import junit_xml
    from edgebuild.verify.report_html import to_html
    from edgebuild.verify.report_md import to_markdown

    with native_stderr_captured(verbose):
        report = verify_file(model, profile, data_source=data_source, min_accuracy=min_accuracy,
                             timing=Timing(runs, min_seconds, timeout_s, threads), baseline=baseline,
                             device_run=device_run(device, device_python, ssh_config))
    if junit:
        write_atomically(junit, junit_xml(report))
    if html:
        write_atomically(html, to_html(report.model_dump(mode="json")).encode())
    if as_json:
        click.echo(report.to_json().decode(), nl=False)
    elif quiet:
        click.echo(verdict_line(report))
    else:
        click.echo(to_markdown(report), nl=False)
    click.get_current_context().exit(0 if report.passed else 1)
