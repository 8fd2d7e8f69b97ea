"""`edgebuild report REPORT.json [--html]`: a report read back, as report.md text or a report.html page."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("report")
@click.argument("report_json", metavar="REPORT.json", type=click.Path(path_type=Path))
@click.option("--html", "as_html", is_flag=True,
              help="Write the report as one self-contained HTML page (charts inline, no network) instead of "
                   "printing its text.")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="Where --html writes  [default: REPORT.json's path with .html]")
def command(report_json: Path, as_html: bool, out_path: Path | None) -> None:
    """Show a report.json from build, convert or verify --json: its text, or with --html a page with charts.

    A section this version does not know (an older or newer edgebuild wrote it) is shown as a table.
    """
    from edgebuild.base.files import write_atomically
    from edgebuild.verify.report_html import to_html

    report = _read(report_json)
    if not as_html:
        from edgebuild.verify.report import Report
        from edgebuild.verify.report_md import to_markdown

        click.echo(to_markdown(Report.model_validate(report)), nl=False)
        return
    target = out_path or report_json.with_suffix(".html")
    write_atomically(target, to_html(report).encode())
    click.echo(str(target))


def _read(path: Path) -> dict:
    """The report as a mapping; anything that is not one is refused naming the file (exit 2)."""
    from edgebuild.base.errors import BadInput

    try:
        report = json.loads(path.read_text())
    except OSError as error:
        raise BadInput(f"{path}: cannot read report: {error.strerror or error}") from None
    except ValueError as error:
        raise BadInput(f"{path}: not JSON: {error}") from None
    if not isinstance(report, dict) or not isinstance(report.get("checks"), list) or "passed" not in report:
        raise BadInput(f"{path}: not an edgebuild report: expected a JSON object with `passed` and `checks`")
    return report
