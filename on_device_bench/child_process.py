"""Runs a child process with a time limit; on expiry kills the child's whole process group."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import IO, List, NamedTuple, Optional, Union


class Finished(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


class TimedOut(Exception):
    """The child ran past its time limit and was killed."""


def run_with_time_limit(
    argv: List[str],
    *,
    timeout_s: float,
    stdin: Union[int, IO[bytes], None] = subprocess.DEVNULL,
    cwd: Optional[str] = None,
) -> Finished:
    # A new session so the kill reaches what the child started too (ssh's helpers, a shell's
    # children); killing only the direct child would leave them holding the output pipes.
    child = subprocess.Popen(
        argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        cwd=cwd, start_new_session=True,
    )
    try:
        stdout, stderr = child.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(child)
        raise TimedOut(f"timed out after {timeout_s:g} s")
    except BaseException:
        _kill_group(child)
        raise
    return Finished(
        child.returncode,
        stdout.decode("utf-8", errors="replace"),
        stderr.decode("utf-8", errors="replace"),
    )


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    child.communicate()
