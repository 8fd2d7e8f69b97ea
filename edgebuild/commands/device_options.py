"""`--device`, `--device-python`, `--ssh-config`: the same on every command that can time on a device."""

from __future__ import annotations

import click


def device_options(command):
    command = click.option("--ssh-config", default=None,
                           help="An OpenSSH client config file (ssh -F) for ssh devices.")(command)
    command = click.option("--device-python", default=None, help="The board's Python for ssh devices.")(command)
    return click.option("--device", default=None,
                        help="Also time on a device: ssh://user@host[:port] or adb:SERIAL "
                             "(default: the profile's `device`).")(command)


def device_run(device: str | None, device_python: str | None, ssh_config: str | None):
    from edgebuild.on_device_bench.transports.registry import DeviceBenchOptions
    from edgebuild.verify.device import DeviceRun

    if not device:
        return None
    return DeviceRun(device, DeviceBenchOptions(python=device_python, ssh_config=ssh_config))
