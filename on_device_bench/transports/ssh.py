"""`ssh://user@host[:port]`: copy the runner and the model to a temporary directory on the board
with the user's own OpenSSH client and configuration, run it there with the board's Python,
bring the JSON report back, and remove the directory."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import IO, Any, Dict, List, NamedTuple, Optional, Union
from urllib.parse import urlsplit

from ..child_process import Finished, TimedOut, last_line, run_with_time_limit
from ..fingerprint import sha256_of
from ..local import RunnerFailed, parse_report
from .registry import DeviceBenchOptions, TransportError, register_transport
from .session import Deadline, quoted_command, record_pid_then_exec, removal_command, run_then_clean_up

RUNNER_PACKAGE_DIR = Path(__file__).resolve().parent.parent
REMOTE_PACKAGE_NAME = "on_device_bench"
DEFAULT_REMOTE_PYTHON = "python3"
# mktemp, not a name made up here: /tmp on a board is shared, and mktemp creates the directory
# owner-only and atomically. The trailing X's are mktemp's template, replaced by random characters.
_MAKE_REMOTE_DIR = 'mktemp -d "${TMPDIR:-/tmp}/edgebuild-bench.XXXXXX"'
_CLEANUP_TIMEOUT_S = 30.0
_SSH_CONNECTION_FAILED = 255
_SAFE_HOST = re.compile(r"^[A-Za-z0-9._:%-]+$")
_SAFE_USER = re.compile(r"^[A-Za-z0-9._@+-]+$")


class SshTarget(NamedTuple):
    destination: str
    port: Optional[int]


def parse_ssh_device(device: str) -> SshTarget:
    parts = urlsplit(device)
    try:
        port = parts.port
    except ValueError:
        raise TransportError(f"{device}: the port is not a number from 1 to 65535")
    user = parts.username
    # Not parts.hostname: it lowercases, and a Host alias in the user's ssh config may not be.
    host_and_port = parts.netloc.rpartition("@")[2]
    if host_and_port.startswith("["):
        host = host_and_port[1:host_and_port.find("]")]
    else:
        host = host_and_port.partition(":")[0]
    if not host or parts.path not in ("", "/") or parts.query or parts.fragment or parts.password:
        raise TransportError(f"{device}: expected ssh://user@host[:port]")
    # A leading dash would reach ssh as an option (ssh -oProxyCommand=…).
    if host.startswith("-") or (user or "").startswith("-"):
        raise TransportError(f"{device}: user and host must not start with '-'")
    # OpenSSH before 9.6 put the host and user unchecked into ProxyCommand and Match exec shells
    # (CVE-2023-51385): only names and addresses get as far as ssh.
    if not _SAFE_HOST.match(host) or (user is not None and not _SAFE_USER.match(user)):
        raise TransportError(f"{device}: user and host may hold only letters, digits and '.', '_', '-' "
                             "(also '@', '+' in the user, ':', '%' in an IPv6 host)")
    return SshTarget(f"{user}@{host}" if user else host, port)


@register_transport("ssh", "ssh://user@host[:port]")
def bench_over_ssh(device: str, model_path: str, options: DeviceBenchOptions) -> Dict[str, Any]:
    session = _Session(device, options)
    remote_dir = session.make_remote_dir()
    finished = run_then_clean_up(
        device,
        session.deadline,
        lambda: session.run_runner(remote_dir, model_path),
        lambda unfinished: session.remove_remote_dir(remote_dir, kill_runner=unfinished),
    )
    try:
        report = parse_report(finished.returncode, finished.stdout, finished.stderr)
    except RunnerFailed as failure:
        raise TransportError(f"{device}: {failure}")
    if report["model"]["sha256"] != sha256_of(model_path):
        raise TransportError(f"{device}: the copy of the model on the board differs from {model_path}")
    report["model"]["path"] = model_path
    return report


class _Session:
    """ssh calls to one board that share one deadline."""

    def __init__(self, device: str, options: DeviceBenchOptions) -> None:
        self.device = device
        self.options = options
        self.target = parse_ssh_device(device)
        self.deadline = Deadline(options.timeout_s)

    def make_remote_dir(self) -> str:
        try:
            finished = self._ssh(_MAKE_REMOTE_DIR, timeout_s=self.deadline.remaining_s())
        except TimedOut as timed_out:
            raise TransportError(f"{self.device}: {timed_out}")
        remote_dir = last_line(finished.stdout)
        if finished.returncode != 0 or not remote_dir.startswith("/"):
            reason = last_line(finished.stderr) or "mktemp printed no path"
            raise TransportError(f"{self.device}: cannot make a temporary directory: {reason}")
        return remote_dir

    def run_runner(self, remote_dir: str, model_path: str) -> Finished:
        options = self.options
        runner = quoted_command(
            options.python or DEFAULT_REMOTE_PYTHON, "-m", REMOTE_PACKAGE_NAME,
            _model_member(model_path),
            "--runs", str(options.runs), "--min-seconds", repr(float(options.min_seconds)),
            "--warmup", str(options.warmup), "--threads", str(options.threads),
            # The runner's own watchdog ends a hung model on the board even if this connection drops.
            "--timeout", repr(float(options.timeout_s)), "--json",
        )
        command = f"cd {shlex.quote(remote_dir)} && tar -xf - && {record_pid_then_exec(remote_dir, runner)}"
        with _runner_archive(model_path) as archive:
            return self._ssh(command, timeout_s=self.deadline.remaining_s(), stdin=archive)

    def remove_remote_dir(self, remote_dir: str, *, kill_runner: bool) -> Optional[str]:
        """None once the directory is gone, else what went wrong."""
        try:
            finished = self._run_ssh(removal_command(remote_dir, kill_run=kill_runner), timeout_s=_CLEANUP_TIMEOUT_S)
        except TimedOut:
            return f"could not remove {remote_dir} on the board: timed out"
        if finished.returncode != 0:
            return f"could not remove {remote_dir} on the board: {last_line(finished.stderr)}"
        return None

    def _ssh(self, remote_command: str, *, timeout_s: float,
             stdin: Union[int, IO[bytes]] = subprocess.DEVNULL) -> Finished:
        """The remote command's result; TransportError when ssh could not run it at all."""
        finished = self._run_ssh(remote_command, timeout_s=timeout_s, stdin=stdin)
        if finished.returncode == _SSH_CONNECTION_FAILED:
            reason = last_line(finished.stderr) or "ssh failed"
            raise TransportError(f"{self.device}: {reason}")
        return finished

    def _run_ssh(self, remote_command: str, *, timeout_s: float,
                 stdin: Union[int, IO[bytes]] = subprocess.DEVNULL) -> Finished:
        try:
            return run_with_time_limit(self._ssh_argv(remote_command), timeout_s=timeout_s, stdin=stdin)
        except FileNotFoundError:
            raise TransportError("ssh: the OpenSSH client is not installed (no ssh on PATH)")

    def _ssh_argv(self, remote_command: str) -> List[str]:
        argv = ["ssh"]
        if self.options.ssh_config:
            argv += ["-F", self.options.ssh_config]
        # BatchMode: a refused key fails at once instead of waiting at a password prompt. Host-key
        # checking stays as the user configured it; by default an unknown host now fails instead
        # of being asked about.
        connect_timeout_s = max(1, min(int(self.options.timeout_s), 30))
        argv += ["-o", "BatchMode=yes", "-o", f"ConnectTimeout={connect_timeout_s}"]
        if self.target.port is not None:
            argv += ["-p", str(self.target.port)]
        return argv + [self.target.destination, remote_command]


def _runner_archive(model_path: str) -> IO[bytes]:
    """A tar of the runner package and the model, streamed to `tar -x` on the board: one
    connection, and no sftp server needed there."""
    archive_file = tempfile.TemporaryFile()
    with tarfile.open(fileobj=archive_file, mode="w", format=tarfile.GNU_FORMAT) as archive:
        archive.add(str(RUNNER_PACKAGE_DIR), arcname=REMOTE_PACKAGE_NAME, filter=_source_only)
        archive.add(model_path, arcname=_model_member(model_path))
    archive_file.seek(0)
    return archive_file


def _model_member(model_path: str) -> str:
    # In a folder of its own: a model file named like the package or the pid file cannot clash,
    # and a name starting with "-" cannot reach the runner as an option.
    return "model/" + os.path.basename(model_path)


def _source_only(member: tarfile.TarInfo) -> Optional[tarfile.TarInfo]:
    if "__pycache__" in member.name.split("/") or member.name.endswith(".pyc"):
        return None
    return member
