"""`python -m on_device_bench MODEL ...`: the runner's command line, its output and exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from typing import Any, List, Optional, TextIO

from .benchmark import BenchOptions, run_benchmark
from .errors import BenchError
from .summary import format_summary

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_TIMED_OUT = 3
EXIT_INTERRUPTED = 130


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    # Native code (runtime logs, delegates) may write to fd 1: with --json, point fd 1 at stderr
    # and keep a private copy of the real stdout for the one JSON object.
    output = _reserve_stdout() if args.json else sys.stdout
    if args.timeout is not None:
        _arm_watchdog(args.timeout, args.model, args.json, output)
    options = BenchOptions(
        model_path=args.model,
        runs=args.runs,
        min_seconds=args.min_seconds,
        warmup=args.warmup,
        threads=args.threads,
        data_path=args.data,
    )
    try:
        report = run_benchmark(options)
    except BenchError as error:
        return _fail(str(error), EXIT_BAD_INPUT, args.json, output)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_INTERRUPTED, args.json, output)
    output.write(json.dumps(report) + "\n" if args.json else format_summary(report))
    output.flush()
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m on_device_bench",
        description="Time a .tflite model in the TFLite interpreter and measure its memory.",
    )
    parser.add_argument("model", help="the .tflite file")
    parser.add_argument("--runs", type=_at_least(1, int), default=50, help="timed runs, at least (50)")
    parser.add_argument(
        "--min-seconds", type=_at_least(0.0, float), default=1.0,
        help="keep timing until this many seconds have passed too (1.0)",
    )
    parser.add_argument("--warmup", type=_at_least(0, int), default=3, help="untimed runs first (3)")
    parser.add_argument("--threads", type=_at_least(1, int), default=1, help="interpreter threads (1)")
    parser.add_argument("--data", help=".npz with x (NHWC model inputs, or uint8 pixels beside a float32 "
                        "x_divisor) and y (labels): report top-1")
    parser.add_argument(
        "--timeout", type=_at_least(0.001, float), default=None,
        help="give up after this many seconds, exit 3",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def _at_least(minimum: Any, number_type: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = number_type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected at least {minimum}, got {text}")
        return value

    return parse


def _reserve_stdout() -> TextIO:
    sys.stdout.flush()
    private_stdout = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return private_stdout


def _arm_watchdog(timeout_s: float, model_path: str, as_json: bool, output: TextIO) -> None:
    # A thread, not signal.alarm: Python runs signal handlers only between bytecodes, so a
    # kernel that never returns from invoke() would never see the alarm. LiteRT 2.3 and
    # tflite-runtime 2.14 release the GIL inside invoke(), so the thread runs (checked).
    def expire() -> None:
        message = f"{model_path}: timed out after {timeout_s:g} s"
        _fail(message, EXIT_TIMED_OUT, as_json, output)
        os._exit(EXIT_TIMED_OUT)

    watchdog = threading.Timer(timeout_s, expire)
    watchdog.daemon = True
    watchdog.start()


def _fail(message: str, exit_code: int, as_json: bool, output: TextIO) -> int:
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()
    if as_json:
        output.write(json.dumps({"error": message}) + "\n")
        output.flush()
    return exit_code

