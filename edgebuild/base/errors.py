"""The errors edgebuild raises; the CLI maps each to one line and an exit code."""

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike


class EdgebuildError(Exception):
    """Base class: the message is one line a user can act on."""

    exit_code = 1


class BadInput(EdgebuildError):
    """A recipe, profile, data source or model that cannot be used as given."""

    exit_code = 2


class GateFailed(EdgebuildError):
    """A stage or check broke a limit the recipe or profile sets."""

    exit_code = 1


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP, raised in the main thread like Ctrl-C's KeyboardInterrupt, so every
    `finally` on the way out removes what it was writing; exit code 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.exit_code = 128 + signum


@contextmanager
def writing(folder: str | PathLike) -> Iterator[None]:
    """A failed write that names no file (a full disk, a file size limit: `write()` knows no path)
    names `folder` instead; the CLI shows it as `error: <folder>: <reason>`, exit 2."""
    try:
        yield
    except OSError as error:
        if error.filename is not None:
            raise
        raise OSError(error.errno, error.strerror or str(error), str(folder)) from None
