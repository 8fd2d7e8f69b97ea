"""`edgebuild bench MODEL [--device DEV]`: latency and memory of a .tflite, measured on this
machine in a child process, or on a board over ssh, or on an Android device over adb."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from edgebuild.base.errors import BadInput

from edgebuild.on_device_bench.transports.registry import DEFAULT_BENCHMARK_MODEL


class BenchFailed(click.ClickException):
    """The model, the device or the connection to it failed; one line, exit 2."""

    exit_code = 2


@click.command("bench")
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--device", default=None,
              help="ssh://user@host[:port] or adb:SERIAL. Default: the profile's device, else this machine.")
@click.option("--profile", default=None,
              help="Bundled profile name or YAML path: its device and its latency thread count.")
@click.option("--python", "python", default=None,
              help="The Python that runs the runner: on an ssh board (default python3) or here.")
@click.option("--runs", type=click.IntRange(min=1), default=50, show_default=True, help="Timed runs, at least.")
@click.option("--min-seconds", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Keep timing until this many seconds have passed too.")
@click.option("--warmup", type=click.IntRange(min=0), default=3, show_default=True, help="Untimed runs first.")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Interpreter threads. Default: the profile's, else 1.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True), default=300.0,
              show_default=True, help="Seconds before the run is stopped.")
@click.option("--ssh-config", type=click.Path(exists=True, dir_okay=False), default=None,
              help="An ssh_config for ssh -F. Default: the user's own configuration.")
@click.option("--benchmark-model", "benchmark_model_path", default=DEFAULT_BENCHMARK_MODEL, show_default=True,
              help="Path of TFLite's benchmark_model binary on an adb device.")
@click.option("--data", "data_source", default=None,
              help="Labelled data (sklearn:digits, a folder of class folders, a .npz): also measure the top-1 of a "
                   "classifier, on this machine (not with --device).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def command(model: Path, device: str | None, profile: str | None, python: str | None, runs: int,
            min_seconds: float, warmup: int, threads: int | None, timeout_s: float, ssh_config: str | None,
            benchmark_model_path: str, data_source: str | None, as_json: bool) -> None:
    """Time MODEL in the TFLite interpreter and measure its memory (and top-1 with --data), here or on a device."""
    from edgebuild.on_device_bench.local import RunnerFailed, run_isolated
    from edgebuild.on_device_bench.summary import format_summary
    from edgebuild.on_device_bench.transports import DeviceBenchOptions, TransportError, bench_on_device

    if profile is not None:
        device_from_profile, threads_from_profile = _profile_device_and_threads(profile)
        device = device or device_from_profile
        threads = threads or threads_from_profile
    threads = threads or 1
    if data_source is not None and device is not None:
        raise BadInput(f"--data: accuracy is measured on this machine only; drop --device {device} to measure it")
    try:
        if device is None:
            with _labelled_npz(model, data_source) as data_path:
                report = run_isolated(str(model), runs=runs, min_seconds=min_seconds, warmup=warmup, threads=threads,
                                      data_path=data_path, timeout_s=timeout_s, python=python or sys.executable)
        else:
            options = DeviceBenchOptions(threads=threads, runs=runs, warmup=warmup, min_seconds=min_seconds,
                                         timeout_s=timeout_s, python=python, benchmark_model_path=benchmark_model_path,
                                         ssh_config=ssh_config)
            report = bench_on_device(device, str(model), options)
    except RunnerFailed as failure:  # a crash or a time-out does not say which file
        message = str(failure)
        raise BenchFailed(message if message.startswith(os.path.abspath(model)) else f"{model}: {message}")
    except TransportError as failure:  # names the device
        raise BenchFailed(str(failure))
    click.echo(json.dumps(report) if as_json else format_summary(report), nl=as_json)


@contextmanager
def _labelled_npz(model: Path, data_source: str | None) -> Iterator[str | None]:
    """--data, checked against the model (exit 2 naming the flag) and resized as `verify` does, in a temporary .npz
    the runner reads."""
    if data_source is None:
        yield None
        return
    from edgebuild.app.verify import labelled_data
    from edgebuild.commands.native_log import native_stderr_captured
    from edgebuild.toolchain.datasets import save_labelled

    with native_stderr_captured():  # resizing imports TensorFlow, whose C++ start-up lines are no one's business
        images, labels = labelled_data(model, data_source)
    with tempfile.TemporaryDirectory(prefix="edgebuild-bench-data-") as folder:
        path = os.path.join(folder, "data.npz")
        save_labelled(path, images, labels)
        yield path


def _profile_device_and_threads(profile: str) -> tuple[str | None, int]:
    from edgebuild.base.errors import EdgebuildError
    from edgebuild.config.profile import load_profile

    try:
        device_profile, _ = load_profile(profile)
    except EdgebuildError as error:
        raise BenchFailed(str(error))
    return device_profile.device, device_profile.latency.threads
