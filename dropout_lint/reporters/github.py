"""``--format github``: GitHub Actions workflow commands, shown inline on pull requests."""

from __future__ import annotations

from dropout_lint.diagnostics import Severity
from dropout_lint.reporters import Report

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for d in report.diagnostics:
        span = d.span
        properties = ",".join(
            [
                f"file={_escape_property(d.path)}",
                f"line={span.line}",
                f"col={span.column + 1}",
                f"endLine={span.end_line}",
                f"endColumn={span.end_column + 1}",
                f"title={_escape_property(f'{d.code} {d.name}')}",
            ]
        )
        message = d.message if d.runtime is None else f"{d.message} [runtime: {d.runtime}]"
        lines.append(f"::{_LEVEL[d.severity]} {properties}::{_escape_data(f'{d.code} {message}')}")
    return "".join(line + "\n" for line in lines)
