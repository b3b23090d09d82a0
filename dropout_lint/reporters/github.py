"""``--format github``: GitHub Actions workflow commands, shown inline on pull requests."""

from __future__ import annotations

from dropout_lint.diagnostics import Severity
from dropout_lint.reporters.report import Report

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for d in report.diagnostics:
        span = d.span
        # A notebook's lines are not lines of its JSON file: the annotation points at the
        # line of the JSON string that holds the code, and the message names the cell.
        where = d.span if d.cell is None else d.file_span
        place = [f"file={_escape_property(d.path)}"]
        if where is not None:
            place += [f"line={where.line}", f"col={where.column + 1}", f"endLine={where.end_line}", f"endColumn={where.end_column + 1}"]
        properties = ",".join([*place, f"title={_escape_property(f'{d.code} {d.name}')}"])
        message = d.message if d.runtime is None else f"{d.message} [runtime: {d.runtime}]"
        if d.cell is not None:
            message = f"cell {d.cell}, line {span.line}: {message}"
        lines.append(f"::{_LEVEL[d.severity]} {properties}::{_escape_data(f'{d.code} {message}')}")
    return "".join(line + "\n" for line in lines)
