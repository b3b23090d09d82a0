"""Turn findings into output. Each format is a pure function of the results."""

from __future__ import annotations

from dropout_lint.reporters.report import Report

FORMATS = ("text", "concise", "json", "sarif", "github")


def render(
    fmt: str,
    report: Report,
    *,
    statistics: bool = False,
    show_source: bool = True,
    quiet: bool = False,
    color: bool = False,
    unsafe_fixes: bool = False,
) -> str:
    if fmt == "json":
        from dropout_lint.reporters.json import render_json, render_json_statistics

        return render_json_statistics(report) if statistics else render_json(report)
    if fmt == "sarif":
        from dropout_lint.reporters.sarif import render_sarif

        return render_sarif(report)
    if fmt == "github":
        from dropout_lint.reporters.github import render_github

        return render_github(report)
    from dropout_lint.reporters.text import render_text

    return render_text(
        report,
        concise=fmt == "concise",
        statistics=statistics,
        show_source=show_source,
        quiet=quiet,
        color=color,
        unsafe_fixes=unsafe_fixes,
    )
