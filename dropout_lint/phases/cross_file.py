"""The second phase's cross-file rules: build the project index from every file's
summary, run the rules over it, and give their findings' places a position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

from dropout_lint import memory
from dropout_lint.catalog import INTERNAL_ERROR, Rule
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.phases.diagnose import make_diagnostic
from dropout_lint.phases.results import FileAnalysis
from dropout_lint.registry import project_checks
from dropout_lint.rule import ProjectCheck, ProjectFinding
from dropout_lint.source import decode_source, parse_module

if TYPE_CHECKING:
    from dropout_lint.notebook import NotebookSource
    from dropout_lint.project.place import Place


def project_findings(analyses: Sequence[FileAnalysis], config: Config) -> dict[str, list[Diagnostic]]:
    summaries = [a.summary for a in analyses if a.summary is not None]
    selected = project_checks(config.enabled)
    if not summaries or not selected:
        return {}
    enabled = {a.path: a.enabled for a in analyses}
    found, crashes = _run_project_checks(summaries, selected, config, enabled, analyses[0].path)
    # The index, and what it unpickled, is freed by now: placing the findings parses
    # files again, in the memory given back.
    if found:
        memory.release()
    _place(found, analyses)
    notebooks = {a.path: a.notebook for a in analyses if a.notebook is not None}
    out: dict[str, list[Diagnostic]] = {}
    for rule, finding in found:
        path = finding.place.path
        out.setdefault(path, []).append(make_diagnostic(rule, finding.text(lambda p: _line_of(p, notebooks)), path, finding.place.span))
    for crash in crashes:
        out.setdefault(crash.path, []).append(crash)
    return out


def _run_project_checks(
    summaries: Sequence[object],
    selected: Sequence[type[ProjectCheck]],
    config: Config,
    enabled: dict[str, frozenset[str]],
    first: str,
) -> tuple[list[tuple[Rule, ProjectFinding]], list[Diagnostic]]:
    from dropout_lint.project.index import ProjectIndex

    index = ProjectIndex(summaries)  # type: ignore[arg-type]
    found: list[tuple[Rule, ProjectFinding]] = []
    crashes: list[Diagnostic] = []
    try:
        for check in selected:
            rule = check.rule
            try:
                findings = list(check(index, config).run())
            except Exception as error:  # one rule's crash must not hide the others' findings
                message = f"cross-file check {rule.code} ({rule.name}) crashed: {type(error).__name__}: {error} (please report this)"
                if INTERNAL_ERROR.code in enabled.get(first, frozenset()):
                    crashes.append(make_diagnostic(INTERNAL_ERROR, message, first, Span(1, 0, 1, 1)))
                continue
            found.extend((rule, f) for f in findings if rule.code in enabled.get(f.place.path, frozenset()))
    finally:
        index.close()
    return found, crashes


def _line_of(place: Place, notebooks: dict[str, NotebookSource]) -> str:
    """How a related place's line reads in a message: ``12``, or ``5 of cell 3``."""
    source = notebooks.get(place.path)
    if source is None:
        return str(place.line)
    cell, line = source.where(place.line)
    return f"{line} of cell {cell}"


def _place(found: Sequence[tuple[Rule, ProjectFinding]], analyses: Sequence[FileAnalysis]) -> None:
    """Give the findings' places their line and column: the files that have findings are
    parsed again (summaries name nodes by their rank, not by position). The positions
    are noted in the file's summary, which the cache keeps, so a later run finds them
    there and does not parse the file."""
    from dropout_lint.project.summary import PackedSummary, resolve_places

    by_path: dict[str, list[Place]] = {}
    for _, finding in found:
        for place in (finding.place, *finding.related):
            if place.line == 0:
                by_path.setdefault(place.path, []).append(place)
    sources = {a.path: a for a in analyses}
    for path, places in by_path.items():
        analysis = sources.get(path)
        if analysis is None:
            continue
        summary = analysis.summary
        known = summary.spans if isinstance(summary, PackedSummary) else {}
        missing = []
        for place in places:
            span = known.get(place.index)
            if span is None:
                missing.append(place)
            else:
                place.set_span(span)
        text = _text_of(analysis) if missing else None
        if text is None:
            continue
        import libcst as cst

        try:
            module = parse_module(text)
        except (cst.ParserSyntaxError, RecursionError, ValueError):
            continue  # changed since it was read: the findings keep no position
        resolve_places(module, missing)
        known.update((place.index, place.span) for place in missing if place.line)


def _text_of(analysis: FileAnalysis) -> Optional[str]:
    if analysis.real_path is not None:
        try:
            with open(analysis.real_path, "rb") as handle:
                text, _ = decode_source(handle.read())
        except OSError:
            return None
        return text
    return "\n".join(analysis.lines) if analysis.lines else None
