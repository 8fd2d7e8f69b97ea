"""The `edgebuild` command: a thin shell over the Python API, with one error boundary.

Commands live in edgebuild/commands/ and are imported only when invoked, so `--help` never loads
TensorFlow.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

import click

from edgebuild import __version__
from edgebuild.base.errors import EdgebuildError, Interrupted

COMMANDS = {
    "bench": "edgebuild.commands.bench:command",
    "build": "edgebuild.commands.build:command",
    "cache": "edgebuild.commands.cache:group",
    "convert": "edgebuild.commands.convert:command",
    "fit": "edgebuild.commands.fit:command",
    "verify": "edgebuild.commands.verify:command",
    "inspect": "edgebuild.commands.inspect:command",
    "plan": "edgebuild.commands.plan:command",
    "profiles": "edgebuild.commands.catalog:profiles",
    "recipes": "edgebuild.commands.catalog:recipes",
    "refit-latency": "edgebuild.commands.refit_latency:command",
    "report": "edgebuild.commands.report:command",
    "sensitivity": "edgebuild.commands.sensitivity:command",
    "schema": "edgebuild.commands.schema:group",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgebuild")
def cli() -> None:
    """Build a model into a TFLite artifact for a named device, and prove that it fits."""


INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C; a cancelled CI job; a closed terminal


def _interrupt(signum: int, frame: object) -> None:
    """The first signal unwinds the build (partial outputs removed); a second one ends it at once."""
    for each in INTERRUPTS:
        signal.signal(each, _exit_at_once)
    raise Interrupted(signum)


def _exit_at_once(signum: int, frame: object) -> None:
    os._exit(128 + signum)  # what is half-written now is what SIGKILL leaves: scratch folders, never entries


def _handle_interrupts() -> None:
    for each in INTERRUPTS:
        if signal.getsignal(each) is not signal.SIG_IGN:  # `nohup` and background jobs ignore some on purpose
            signal.signal(each, _interrupt)


def _the_interrupt(error: BaseException) -> Interrupted:
    """click turns a KeyboardInterrupt into Abort, keeping it as the cause."""
    cause = error.__cause__ if isinstance(error, click.Abort) else error
    return cause if isinstance(cause, Interrupted) else Interrupted(signal.SIGINT)


def main() -> None:
    """Exit codes: 0 ok, 1 a check or gate failed, 2 bad input, 130 / 143 / 129 interrupted by
    SIGINT (Ctrl-C) / SIGTERM / SIGHUP."""
    _handle_interrupts()
    try:
        code = cli.main(prog_name="edgebuild", standalone_mode=False)
    except EdgebuildError as error:
        click.echo(f"error: {error}", err=True)
        code = error.exit_code
    except click.UsageError as error:  # a mistyped command line: click's usage hint helps
        error.show()
        code = error.exit_code
    except click.ClickException as error:
        click.echo(f"error: {error.format_message()}", err=True)
        code = error.exit_code
    except OSError as error:  # read-only folder, disk full, file size limit: the user's to fix
        click.echo(f"error: {error.filename or 'output'}: {error.strerror or error}", err=True)
        code = 2
    except (click.Abort, KeyboardInterrupt) as error:
        interrupt = _the_interrupt(error)
        click.echo(f"interrupted ({interrupt}): partial outputs were removed; finished stages stay cached", err=True)
        code = interrupt.exit_code
    sys.exit(code or 0)
