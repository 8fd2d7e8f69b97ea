"""`ssh://user@host[:port]`: copy the runner and the model to a temporary directory on the board
with the user's own OpenSSH client and configuration, run it there with the board's Python,
bring the JSON report back, and remove the directory."""

from __future__ import annotations

import os
import shlex
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path
from typing import IO, Any, Dict, List, NamedTuple, Optional, Union
from urllib.parse import urlsplit

from ..child_process import Finished, TimedOut, last_line, run_with_time_limit
from ..fingerprint import sha256_of
from ..local import RunnerFailed, parse_report
from .registry import DeviceBenchOptions, TransportError, register_transport

RUNNER_PACKAGE_DIR = Path(__file__).resolve().parent.parent
REMOTE_PACKAGE_NAME = "on_device_bench"
DEFAULT_REMOTE_PYTHON = "python3"
# mktemp, not a name made up here: /tmp on a board is shared, and mktemp creates the directory
# owner-only and atomically.
_MAKE_REMOTE_DIR = 'mktemp -d "${TMPDIR:-/tmp}/edgebuild-bench.XXXXXX"'
_CLEANUP_TIMEOUT_S = 30.0
_SSH_CONNECTION_FAILED = 255


class SshTarget(NamedTuple):
    destination: str
    port: Optional[int]


def parse_ssh_device(device: str) -> SshTarget:
    parts = urlsplit(device)
    try:
        port = parts.port
    except ValueError:
        raise TransportError("{}: the port is not a number from 1 to 65535".format(device))
    host = parts.hostname
    user = parts.username
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment or parts.password:
        raise TransportError("{}: expected ssh://user@host[:port]".format(device))
    # A leading dash would reach ssh as an option (ssh -oProxyCommand=…).
    if host.startswith("-") or (user or "").startswith("-"):
        raise TransportError("{}: user and host must not start with '-'".format(device))
    if ":" in host:
        host = "[{}]".format(host)
    return SshTarget("{}@{}".format(user, host) if user else host, port)


@register_transport("ssh", "ssh://user@host[:port]")
def bench_over_ssh(device: str, model_path: str, options: DeviceBenchOptions) -> Dict[str, Any]:
    session = _Session(device, options)
    remote_dir = session.make_remote_dir()
    timed_out = False
    try:
        finished = session.run_runner(remote_dir, model_path)
    except TimedOut:
        timed_out = True
        raise TransportError("{}: timed out after {:g} s".format(device, options.timeout_s))
    finally:
        session.remove_remote_dir(remote_dir, kill_runner=timed_out)
    try:
        report = parse_report(finished.returncode, finished.stdout, finished.stderr)
    except RunnerFailed as failure:
        raise TransportError("{}: {}".format(device, failure))
    if report["model"]["sha256"] != sha256_of(model_path):
        raise TransportError("{}: the copy of the model on the board differs from {}".format(device, model_path))
    report["model"]["path"] = model_path
    return report


class _Session:
    """ssh calls to one board that share one deadline."""

    def __init__(self, device: str, options: DeviceBenchOptions) -> None:
        self.device = device
        self.options = options
        self.target = parse_ssh_device(device)
        self.deadline = time.monotonic() + options.timeout_s

    def make_remote_dir(self) -> str:
        try:
            finished = self._ssh(_MAKE_REMOTE_DIR, timeout_s=self._remaining_s())
        except TimedOut:
            raise TransportError("{}: timed out after {:g} s".format(self.device, self.options.timeout_s))
        remote_dir = last_line(finished.stdout)
        if finished.returncode != 0 or not remote_dir.startswith("/"):
            raise TransportError("{}: cannot make a temporary directory: {}".format(
                self.device, last_line(finished.stderr) or "mktemp printed no path"))
        return remote_dir

    def run_runner(self, remote_dir: str, model_path: str) -> Finished:
        options = self.options
        runner = _quoted(
            options.python or DEFAULT_REMOTE_PYTHON, "-m", REMOTE_PACKAGE_NAME,
            "./" + os.path.basename(model_path),
            "--runs", str(options.runs), "--min-seconds", repr(float(options.min_seconds)),
            "--warmup", str(options.warmup), "--threads", str(options.threads),
            # The runner's own watchdog ends a hung model on the board even if this connection drops.
            "--timeout", repr(float(options.timeout_s)), "--json",
        )
        # The pid file lets the cleanup kill a runner that outlived the time limit.
        command = "cd {} && tar -xf - && echo $$ > .pid && exec {}".format(shlex.quote(remote_dir), runner)
        with _runner_archive(model_path) as archive:
            return self._ssh(command, timeout_s=self._remaining_s(), stdin=archive)

    def remove_remote_dir(self, remote_dir: str, *, kill_runner: bool) -> None:
        quoted_dir = shlex.quote(remote_dir)
        command = "rm -rf {}".format(quoted_dir)
        if kill_runner:
            command = 'kill -9 "$(cat {}/.pid)" 2>/dev/null; {}'.format(quoted_dir, command)
        try:
            self._ssh(command, timeout_s=_CLEANUP_TIMEOUT_S)
        except (TimedOut, TransportError) as error:
            raise TransportError("{}: could not remove {} on the board: {}".format(self.device, remote_dir, error))

    def _ssh(self, remote_command: str, *, timeout_s: float,
             stdin: Union[int, IO[bytes]] = subprocess.DEVNULL) -> Finished:
        try:
            finished = run_with_time_limit(self._ssh_argv(remote_command), timeout_s=timeout_s, stdin=stdin)
        except FileNotFoundError:
            raise TransportError("ssh: the OpenSSH client is not installed (no ssh on PATH)")
        if finished.returncode == _SSH_CONNECTION_FAILED:
            raise TransportError("{}: {}".format(self.device, last_line(finished.stderr) or "ssh failed"))
        return finished

    def _ssh_argv(self, remote_command: str) -> List[str]:
        argv = ["ssh"]
        if self.options.ssh_config:
            argv += ["-F", self.options.ssh_config]
        # BatchMode: a refused key fails at once instead of waiting at a password prompt; host-key
        # checking stays as the user configured it (unknown hosts fail, they are never accepted).
        connect_timeout_s = max(1, min(int(self.options.timeout_s), 30))
        argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout={}".format(connect_timeout_s)]
        if self.target.port is not None:
            argv += ["-p", str(self.target.port)]
        return argv + [self.target.destination, remote_command]

    def _remaining_s(self) -> float:
        remaining_s = self.deadline - time.monotonic()
        if remaining_s <= 0:
            raise TimedOut()
        return remaining_s


def _quoted(*words: str) -> str:
    return " ".join(shlex.quote(word) for word in words)


def _runner_archive(model_path: str) -> IO[bytes]:
    """A tar of the runner package and the model, streamed to `tar -x` on the board: one
    connection, and no sftp server needed there."""
    archive_file = tempfile.TemporaryFile()
    with tarfile.open(fileobj=archive_file, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.add(str(RUNNER_PACKAGE_DIR), arcname=REMOTE_PACKAGE_NAME, filter=_source_only)
        archive.add(model_path, arcname=os.path.basename(model_path))
    archive_file.seek(0)
    return archive_file


def _source_only(member: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
    if "__pycache__" in member.name.split("/") or member.name.endswith(".pyc"):
        return None
    return member
