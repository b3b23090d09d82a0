"""Output for people: ``path:line:col: CODE [severity] message``, the source line with a
marker, and a summary. Colour comes from rich, and rich is loaded only when colour is on."""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Optional

from dropout_lint.diagnostics import Diagnostic, FixSafety, Severity
from dropout_lint.engine import FileResult
from dropout_lint.reporters.report import Report

if TYPE_CHECKING:
    from rich.console import Console

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "bold blue"}
_PLURAL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


def _width(text: str) -> int:
    """Terminal columns of ``text``: wide (CJK) characters take two, combining marks none."""
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _source_excerpt(diagnostic: Diagnostic, raw: Optional[str]) -> list[tuple[str, str]]:
    """(gutter, text) rows: the source line and a caret marker under the span."""
    span = diagnostic.span
    if raw is None:
        return []
    line = _expand(raw)
    start = _width(_expand(raw[: span.column]))
    if span.end_line == span.line:
        end = _width(_expand(raw[: span.end_column]))
    else:
        end = _width(_expand(raw.rstrip()))
    length = max(end - start, 1)
    number = str(span.line)
    return [(number, line), (" " * len(number), " " * start + "^" * length)]


def _expand(text: str) -> str:
    return text.expandtabs(4)


def _severity(d: Diagnostic) -> str:
    """The severity in words, so that it shows without colour too: ``[error]``."""
    return f"[{d.severity.value}]"


def _message(d: Diagnostic, unsafe_fixes: bool = False) -> str:
    text = d.message if d.runtime is None else f"{d.message} [runtime: {d.runtime}]"
    return f"[*] {text}" if _fixable(d, unsafe_fixes) else text


def _fixable(d: Diagnostic, unsafe_fixes: bool) -> bool:
    return d.fix is not None and (unsafe_fixes or d.fix.safety is FixSafety.SAFE)


def _fix_hint(report: Report, unsafe_fixes: bool) -> str:
    """ruff's hint: how many findings ``--fix`` repairs, and how many more need
    ``--unsafe-fixes``."""
    fixes = [d.fix for d in report.diagnostics if d.fix is not None]
    safe = sum(1 for fix in fixes if fix.safety is FixSafety.SAFE)
    unsafe = len(fixes) - safe
    if unsafe_fixes:
        return f"[*] {len(fixes)} fixable with `--fix --unsafe-fixes`." if fixes else ""
    parts = []
    if safe:
        parts.append(f"[*] {safe} fixable with `--fix`.")
    if unsafe:
        parts.append(f"{unsafe} more fixable with `--fix --unsafe-fixes`.")
    return " ".join(parts)


def _summary(report: Report) -> str:
    diagnostics = report.diagnostics
    files = report.files_checked
    noun = "file" if files == 1 else "files"
    if not diagnostics:
        return f"No problems found in {files} {noun}."
    counts = Counter(d.severity for d in diagnostics)
    parts = [
        f"{counts[s]} {_PLURAL[s]}{'s' if counts[s] != 1 and s is not Severity.INFO else ''}"
        for s in Severity
        if counts[s]
    ]
    total = len(diagnostics)
    affected = len(report.results)
    return (
        f"Found {total} problem{'s' if total != 1 else ''} ({', '.join(parts)}) "
        f"in {affected} of {files} {noun}."
    )


def _statistics(report: Report) -> list[tuple[str, str, str]]:
    counts = Counter((d.code, d.name) for d in report.diagnostics)
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(str(count), code, name) for (code, name), count in rows]


def render_text(
    report: Report,
    *,
    concise: bool = False,
    statistics: bool = False,
    show_source: bool = True,
    quiet: bool = False,
    color: bool = False,
    unsafe_fixes: bool = False,
) -> str:
    if color:
        return _render_rich(report, concise, statistics, show_source, quiet, unsafe_fixes)
    out: list[str] = []
    if statistics:
        rows = _statistics(report)
        width = max((len(r[0]) for r in rows), default=1)
        out.extend(f"{count:>{width}}  {code}  {name}" for count, code, name in rows)
    else:
        for result in report.results:
            for d in result.diagnostics:
                out.append(f"{d.location}: {d.code} {_severity(d)} {_message(d, unsafe_fixes)}")
                if not concise and show_source:
                    excerpt = _source_excerpt(d, result.source_line(d))
                    if excerpt:
                        pad = len(excerpt[0][0])
                        out.append(f"{'':>{pad}} |")
                        out.extend(f"{gutter:>{pad}} | {text}".rstrip() for gutter, text in excerpt)
                        out.append("")
    if not quiet and not concise:
        out.append(_summary(report))
        hint = _fix_hint(report, unsafe_fixes) if not statistics else ""
        if hint:
            out.append(hint)
    elif not quiet and concise and not report.diagnostics:
        out.append(_summary(report))
    return "".join(line + "\n" for line in out)


def _render_rich(
    report: Report, concise: bool, statistics: bool, show_source: bool, quiet: bool, unsafe_fixes: bool
) -> str:
    import io

    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, highlight=False, soft_wrap=True, emoji=False)
    if statistics:
        rows = _statistics(report)
        width = max((len(r[0]) for r in rows), default=1)
        for count, code, name in rows:
            console.print(Text.assemble((f"{count:>{width}}", "bold"), "  ", (code, "bold red"), "  ", name))
    else:
        for result in report.results:
            for d in result.diagnostics:
                _print_rich(console, d, result, concise, show_source, unsafe_fixes)
    if not quiet and (not concise or not report.diagnostics):
        style = "bold green" if not report.diagnostics else "bold"
        console.print(Text(_summary(report), style=style))
        hint = _fix_hint(report, unsafe_fixes) if not concise and not statistics else ""
        if hint:
            console.print(Text(hint))
    return buffer.getvalue()


def _print_rich(
    console: Console, d: Diagnostic, result: FileResult, concise: bool, show_source: bool, unsafe_fixes: bool
) -> None:
    from rich.text import Text

    line = Text.assemble(
        (f"{d.location}:", "bold"),
        " ",
        (d.code, _STYLE[d.severity]),
        " ",
        (_severity(d), _STYLE[d.severity]),
        " ",
        _message(d, unsafe_fixes),
    )
    console.print(line)
    if concise or not show_source:
        return
    excerpt = _source_excerpt(d, result.source_line(d))
    if not excerpt:
        return
    pad = len(excerpt[0][0])
    gutter_style = "bold blue"
    console.print(Text(f"{'':>{pad}} |", style=gutter_style))
    (number, source), (_, marker) = excerpt
    console.print(Text.assemble((f"{number:>{pad}} | ", gutter_style), source))
    console.print(Text.assemble((f"{'':>{pad}} | ", gutter_style), (marker, _STYLE[d.severity])))
    console.print()
