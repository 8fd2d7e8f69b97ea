"""Every command and every option says what it is for: `--help` is the first documentation a user reads."""

from __future__ import annotations

import click

from edgebuild.cli import COMMANDS, cli


def _commands(group: click.Group, ctx: click.Context, prefix: str = ""):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield f"{prefix}{name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, f"{prefix}{name} ")


def test_every_command_and_option_has_help_text():
    ctx = click.Context(cli)
    missing = []
    walked = dict(_commands(cli, ctx))
    for name, command in walked.items():
        if not (command.help or command.short_help):
            missing.append(name)
        for parameter in command.params:
            if isinstance(parameter, click.Option) and not (parameter.help or "").strip():
                missing.append(f"{name} {parameter.opts[0]}")
    assert set(COMMANDS) <= set(walked)
    assert not missing, f"no help text: {missing}"
