"""The second phase, once per run: the cross-file rules' findings joined to each file's
own, ``# noqa`` applied (and the unused ones reported), a notebook's findings moved to
their cells, and each file's result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from dropout_lint.catalog import TRACE_RULES, UNUSED_NOQA
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.noqa import Noqa
from dropout_lint.phases.cross_file import project_findings
from dropout_lint.phases.diagnose import make_diagnostic
from dropout_lint.phases.results import FileAnalysis, FileResult
from dropout_lint.selection import ALWAYS_REPORTED, RULES_BY_CODE
from dropout_lint.source import decode_source, split_lines

if TYPE_CHECKING:
    from dropout_lint.notebook import NotebookSource


def finish(analyses: Sequence[FileAnalysis], config: Config) -> list[FileResult]:
    """The second phase: cross-file rules over all summaries, then noqa, per file."""
    project = project_findings(analyses, config)
    results = []
    for analysis in analyses:
        found = [*analysis.diagnostics, *project.get(analysis.path, ())]
        noqa = {directive.line: directive for directive in analysis.noqa}
        kept, used = _apply_noqa(found, noqa)
        if UNUSED_NOQA.code in analysis.enabled:
            kept.extend(_unused_noqa(noqa, used, analysis.enabled, analysis.path))
        source = analysis.notebook
        if source is not None:
            kept = [_in_file(_in_cell(d, source), source) for d in kept]
        diagnostics = tuple(sorted(set(kept), key=lambda d: d.sort_key))
        if source is not None:
            results.append(FileResult(analysis.path, diagnostics, (), source.cells if diagnostics else ()))
            continue
        lines = analysis.lines
        if diagnostics and not lines and analysis.real_path is not None:
            lines = _read_lines(analysis.real_path)
        results.append(FileResult(analysis.path, diagnostics, lines if diagnostics else ()))
    return results


def _read_lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, "rb") as handle:
            text, _ = decode_source(handle.read())
    except OSError:
        return ()
    return tuple(split_lines(text)) if text is not None else ()


def _in_cell(diagnostic: Diagnostic, source: NotebookSource) -> Diagnostic:
    """A finding on a line of a notebook's joined text, moved to its cell."""
    if diagnostic.cell is not None:
        return diagnostic
    cell, line = source.where(diagnostic.span.line)
    shift = diagnostic.span.line - line

    def moved(span: Span) -> Span:
        return Span(span.line - shift, span.column, max(span.end_line - shift, 1), span.end_column)

    fix = diagnostic.fix
    return replace(
        diagnostic,
        span=moved(diagnostic.span),
        cell=cell,
        fix=replace(fix, span=moved(fix.span)) if fix is not None else None,
    )


def _in_file(diagnostic: Diagnostic, source: NotebookSource) -> Diagnostic:
    """A notebook finding with its place in the notebook's JSON text too, for the formats
    that point into the raw file (SARIF, GitHub annotations)."""
    span = diagnostic.span
    if diagnostic.cell is None or diagnostic.file_span is not None:
        return diagnostic
    start = source.file_position(diagnostic.cell, span.line, span.column)
    if start is None:
        return diagnostic
    end = source.file_position(diagnostic.cell, span.end_line, span.end_column) or (start[0], start[1] + 1)
    return replace(diagnostic, file_span=Span(*start, *end))


def _apply_noqa(diagnostics: Iterable[Diagnostic], noqa: dict[int, Noqa]) -> tuple[list[Diagnostic], set[tuple[int, str]]]:
    kept: list[Diagnostic] = []
    used: set[tuple[int, str]] = set()
    for diagnostic in diagnostics:
        directive = noqa.get(diagnostic.span.line) if diagnostic.cell is None else None
        if diagnostic.code in ALWAYS_REPORTED:
            directive = None
        if directive is not None and directive.suppresses(diagnostic.code):
            used.add((directive.line, diagnostic.code))
            continue
        kept.append(diagnostic)
    return kept, used


_TRACE_CODES = frozenset(rule.code for rule in TRACE_RULES)


def _unused_noqa(
    noqa: dict[int, Noqa], used: set[tuple[int, str]], enabled: frozenset[str], path: str
) -> list[Diagnostic]:
    out = []
    for directive in noqa.values():
        if directive.codes is None:
            continue  # a bare noqa may serve other linters
        ours = [c for c in directive.codes if c.startswith("DL")]
        unknown = [c for c in ours if c not in RULES_BY_CODE]
        # The tracer's rules are judged at run time: a static pass cannot tell them unused.
        unused = [c for c in ours if c in enabled and c not in _TRACE_CODES and (directive.line, c) not in used]
        if not unknown and not unused:
            continue
        parts = []
        if unused:
            parts.append(f"unused: {', '.join(unused)}")
        if unknown:
            parts.append(f"unknown: {', '.join(unknown)}")
        span = Span(directive.line, directive.column, directive.line, directive.end_column)
        out.append(make_diagnostic(UNUSED_NOQA, f"`# noqa` suppresses nothing here ({'; '.join(parts)})", path, span))
    return out
