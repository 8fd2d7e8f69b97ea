"""`edgebuild schema report`: the JSON Schema every report.json validates against."""

from __future__ import annotations

import json

import click


@click.group("schema")
def group() -> None:
    """JSON Schemas of what edgebuild writes."""


@group.command("report")
def report() -> None:
    """The JSON Schema of report.json (build, convert and verify --json)."""
    from edgebuild.verify.report import report_schema

    click.echo(json.dumps(report_schema(), indent=2))
