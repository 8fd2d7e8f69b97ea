"""What every transport shares: one deadline for all its calls to a device, and a run whose
temporary directory on the device is removed whatever happens."""

from __future__ import annotations

import shlex
import time
from typing import Callable, Optional, TypeVar

from ..child_process import TimedOut
from .registry import TransportError

Result = TypeVar("Result")

# The run records its pid here, so the clean-up can kill a run that outlived the time limit:
# killing the local ssh or adb client does not stop the process on the device.
_PID_FILE = ".pid"


def quoted_command(*words: str) -> str:
    """ssh and adb hand the remote shell one string to parse again: every word is quoted."""
    return " ".join(shlex.quote(word) for word in words)


def record_pid_then_exec(remote_dir: str, command: str) -> str:
    """Shell that writes its pid into `remote_dir` and becomes `command` (same pid)."""
    return f"echo $$ > {shlex.quote(remote_dir)}/{_PID_FILE} && exec {command}"


def removal_command(remote_dir: str, *, kill_run: bool) -> str:
    """Shell that removes `remote_dir`, first killing the recorded run if it may still be going."""
    quoted_dir = shlex.quote(remote_dir)
    remove = f"rm -rf {quoted_dir}"
    if not kill_run:
        return remove
    return f'kill -9 "$(cat {quoted_dir}/{_PID_FILE})" 2>/dev/null; {remove}'


class Deadline:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._ends = time.monotonic() + timeout_s

    def remaining_s(self) -> float:
        """Seconds left for the next call; TimedOut once none are."""
        remaining_s = self._ends - time.monotonic()
        if remaining_s <= 0:
            raise TimedOut(f"timed out after {self.timeout_s:g} s")
        return remaining_s


def run_then_clean_up(
    device: str,
    deadline: Deadline,
    run: Callable[[], Result],
    clean_up: Callable[[bool], Optional[str]],
) -> Result:
    """`run()`, then always `clean_up(run_did_not_finish)`, which returns a problem or None.
    A time-out or a failed clean-up becomes one TransportError naming both."""
    problems = []
    result: Optional[Result] = None
    finished = False
    try:
        result = run()
        finished = True
    except TimedOut:
        problems.append(f"timed out after {deadline.timeout_s:g} s")
    finally:
        # Also on Ctrl-C or a dropped connection: the directory goes either way.
        cleanup_problem = clean_up(not finished)
    if cleanup_problem:
        problems.append(cleanup_problem)
    if problems:
        raise TransportError(f"{device}: {'; '.join(problems)}")
    return result  # type: ignore[return-value]
