"""Device strings and names that reach a remote shell are refused or quoted, never interpreted: each
case plants `touch pwned` and checks that no `pwned` file ever appears."""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib import resources
from pathlib import Path

import pytest

from cli_runner import assert_one_line_error, run_edgebuild
from reliability_checks import leftovers

# Stands in for an OpenSSH client older than 9.6 whose ssh_config says `ProxyCommand nc %h %p`: user and
# host reach a shell unchecked (CVE-2023-51385). The remote command then runs here under sh, as sshd
# runs it on a board, with the archive on its stdin.
FAKE_SSH = '''#!{python}
import subprocess, sys
args = sys.argv[1:]
while args[0].startswith("-"):
    args = args[2:] if args[0] in ("-F", "-o", "-p") else args[1:]
destination, command = args
subprocess.run("true " + destination.replace("@", " "), shell=True)
sys.exit(subprocess.run(["sh", "-c", command]).returncode)
'''
# The adb client: the serial is a word of its own on the command line, then the device's own shell.
FAKE_ADB = '''#!{python}
import sys
print("adb: device %r not found" % sys.argv[2], file=sys.stderr)
sys.exit(1)
'''
INJECTED = "touch${IFS}pwned"


@pytest.fixture
def fake_clients(tmp_path, monkeypatch) -> Path:
    """`ssh` and `adb` on the child's PATH are the stand-ins above; the case's folder is the board's cwd."""
    tools = tmp_path / "tools"
    tools.mkdir()
    for name, script in (("ssh", FAKE_SSH), ("adb", FAKE_ADB)):
        (tools / name).write_text(script.format(python=sys.executable))
        (tools / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    (tmp_path / "model.tflite").write_bytes(b"never read: the device string is refused first")
    return tmp_path


def _assert_nothing_injected_or_left(root: Path) -> None:
    assert not (root / "pwned").exists(), "an injected command ran"
    assert leftovers(root) == [], "a temporary folder (the board's included) was left behind"


def _bench(root: Path, *args: str):
    return run_edgebuild("bench", *args, "--timeout", "60", "--runs", "3", "--min-seconds", "0", cwd=root)


@pytest.mark.parametrize("device", [
    f"ssh://pi@board;{INJECTED}",
    f"ssh://pi@$({INJECTED})board",
    f"ssh://p`{INJECTED}`i@board:22",
], ids=["host_semicolon", "host_substitution", "user_backticks"])
def test_ssh_device_with_shell_metacharacters_is_refused(fake_clients, device):
    result = _bench(fake_clients, "model.tflite", "--device", device)
    assert_one_line_error(result, 2, device, "may hold only letters, digits")
    _assert_nothing_injected_or_left(fake_clients)


def test_device_with_shell_metacharacters_in_a_profile_is_refused(fake_clients):
    device = f"ssh://pi@board;{INJECTED}"
    profile = (resources.files("edgebuild.device_profiles") / "raspberry-pi-4.yaml").read_text()
    (fake_clients / "board.yaml").write_text(f"{profile}\ndevice: '{device}'\n")
    result = _bench(fake_clients, "model.tflite", "--profile", "board.yaml")
    assert_one_line_error(result, 2, device)
    _assert_nothing_injected_or_left(fake_clients)


def test_adb_serial_with_shell_metacharacters_is_one_word_never_a_command(fake_clients):
    device = f"adb:emulator-5554;{INJECTED}"
    result = _bench(fake_clients, "model.tflite", "--device", device)
    assert_one_line_error(result, 2, device, "not found")
    _assert_nothing_injected_or_left(fake_clients)


def test_remote_python_with_shell_metacharacters_is_quoted(fake_clients):
    result = _bench(fake_clients, "model.tflite", "--device", "ssh://pi@board", "--python", f"python3;{INJECTED}")
    assert_one_line_error(result, 2, "ssh://pi@board", "without a report")
    _assert_nothing_injected_or_left(fake_clients)


def test_model_name_with_shell_metacharacters_is_quoted_on_the_board(fake_clients, tiny_build):
    model = fake_clients / f"$({INJECTED});{INJECTED}.tflite"
    shutil.copyfile(tiny_build / "out/tiny/android-flagship/model.tflite", model)
    result = _bench(fake_clients, model.name, "--device", "ssh://pi@board", "--python", sys.executable, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["model"]["path"] == model.name
    _assert_nothing_injected_or_left(fake_clients)
