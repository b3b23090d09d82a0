"""Lint files in two phases.

1. ``analyse_*``, per file (in parallel): read, parse once, run every enabled check in
   one traversal, and summarise the file for the cross-file rules.
2. ``finish``, once per run: build the project index from the summaries, run the
   cross-file rules, apply ``# noqa`` and report unused ones.

``lint_source`` and ``lint_file`` do both for one file; they work without the CLI.

libcst, the analyses and the checks of the syntax tree are imported when the first file
is parsed (``prepare``): a run whose files all come from the cache, or that skips them
all, needs none of them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Optional

from dropout_lint import budget, memory
from dropout_lint.catalog import INTERNAL_ERROR, PARSE_ERROR, TRACE_RULES, UNUSED_NOQA, Rule
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Fix, Span
from dropout_lint.noqa import Noqa, collect_noqa
from dropout_lint.prefilter import may_matter
from dropout_lint.registry import PROJECT_CODES, file_checks, project_checks
from dropout_lint.rule import Check, ProjectCheck, ProjectFinding
from dropout_lint.selection import ALWAYS_REPORTED, RULES_BY_CODE
from dropout_lint.source import decode_source, parse_error, parse_module, python_check, risky, split_lines

if TYPE_CHECKING:
    import libcst as cst

    from dropout_lint.context import Report
    from dropout_lint.notebook import NotebookSource  # imported when a notebook is linted
    from dropout_lint.project.place import Place
    from dropout_lint.project.summary import PackedSummary


@dataclass(frozen=True)
class FileResult:
    """The findings of one file, and its lines when a reporter may need to show them."""

    path: str
    diagnostics: tuple[Diagnostic, ...]
    lines: tuple[str, ...] = ()
    cells: tuple[tuple[int, tuple[str, ...]], ...] = ()  # a notebook's cells: (number, lines)

    def source_line(self, diagnostic: Diagnostic) -> Optional[str]:
        """The line a finding starts on, from the file or its notebook cell."""
        lines = self.lines
        if diagnostic.cell is not None:
            lines = next((cell for number, cell in self.cells if number == diagnostic.cell), ())
        line = diagnostic.span.line
        return lines[line - 1] if 1 <= line <= len(lines) else None


@dataclass(frozen=True)
class FileAnalysis:
    """What the first phase learns about one file (picklable, sent back by workers)."""

    path: str  # as shown in reports
    enabled: frozenset[str]
    diagnostics: tuple[Diagnostic, ...]  # this file's own findings, before noqa
    noqa: tuple[Noqa, ...] = ()
    summary: Optional[PackedSummary] = None
    lines: tuple[str, ...] = ()
    real_path: Optional[str] = None  # where to read the lines again if needed
    notebook: Optional[NotebookSource] = None  # a notebook's cells, joined into the text linted
    cacheable: bool = True  # False when the result depends on the moment (a time bound hit)


def prepare(enabled: Collection[str]) -> None:
    """Import what parsing a file takes: libcst, the checks of the rules of ``enabled``
    and, when a rule of the project needs them, the summaries. The first file parsed
    does it otherwise; a caller that starts worker processes does it first, so that they
    inherit it all."""
    import libcst  # noqa: F401 - the parser and its node classes

    from dropout_lint import context, walker  # noqa: F401

    file_checks(enabled)
    if PROJECT_CODES & set(enabled):
        from dropout_lint.project import extract  # noqa: F401


def lint_source(source: str, path: str = "<string>", config: Optional[Config] = None) -> list[Diagnostic]:
    """The findings for Python source text, sorted by position."""
    config = config or Config()
    analysis = analyse_text(source, path, config, keep_lines=True)
    return list(finish([analysis], config)[0].diagnostics)


def lint_file(path: str, config: Config, display_path: Optional[str] = None) -> FileResult:
    """Read and lint one file on its own. Unreadable files become a DL900 finding."""
    return finish([analyse_file(path, config, display_path)], config)[0]


def lint_data(data: bytes, path: str, config: Config) -> FileResult:
    """Lint a file's bytes that come from elsewhere than ``path`` (stdin): ``path`` gives
    the per-file settings, whether it is a notebook, and the name in the findings."""
    return finish([analyse_data(data, path, config)], config)[0]


def analyse_file(path: str, config: Config, display_path: Optional[str] = None) -> FileAnalysis:
    shown = display_path or path
    enabled = config.enabled_for(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            # A FIFO or a device named on the command line: reading it could block forever.
            return _unreadable(shown, enabled, "not a regular file (a folder, pipe or device), so it was not read", 1, 0)
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > config.max_file_size * 1e6:
                return _unreadable(shown, enabled, _too_large(size, config), 1, 0)
            data = handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _unreadable(shown, enabled, f"cannot read file: {reason}", 1, 0)
    return analyse_data(data, shown, config, enabled, real_path=path)


def analyse_data(
    data: bytes,
    path: str,
    config: Config,
    enabled: Optional[frozenset[str]] = None,
    *,
    real_path: Optional[str] = None,
) -> FileAnalysis:
    """The first phase for a file's bytes (read from disk, or from stdin with no
    ``real_path``): a notebook when ``path`` ends in ``.ipynb``, else Python source."""
    if enabled is None:
        enabled = config.enabled_for(path)
    if len(data) > config.max_file_size * 1e6:
        return _unreadable(path, enabled, _too_large(len(data), config), 1, 0)
    if path.endswith(".ipynb"):
        return _analyse_notebook(data, path, config, enabled)
    text, error = decode_source(data)
    if text is None:
        assert error is not None
        return _unreadable(path, enabled, error.message, error.line, error.column)
    return analyse_text(text, path, config, enabled, real_path=real_path, keep_lines=real_path is None)


def _analyse_notebook(data: bytes, path: str, config: Config, enabled: frozenset[str]) -> FileAnalysis:
    """A notebook's code cells, linted as one module (see ``dropout_lint.notebook``)."""
    from dropout_lint import notebook

    try:
        source = notebook.to_source(notebook.load(data))
    except notebook.NotebookError as error:
        return _unreadable(path, enabled, str(error), error.line, error.column)
    from dropout_lint.notebook_raw import cell_lines

    wanted = {number for number, _ in source.cells} | {problem.cell for problem in source.problems}
    source = replace(source, raw=cell_lines(data, wanted))
    analysis = analyse_text(source.text, path, config, enabled, keep_lines=True)
    problems = tuple(
        replace(
            _diagnostic(PARSE_ERROR, problem.message, path, Span(problem.line, problem.column, problem.line, problem.column + 1)),
            cell=problem.cell,
        )
        for problem in source.problems
        if PARSE_ERROR.code in enabled
    )
    return replace(analysis, diagnostics=analysis.diagnostics + problems, notebook=source)


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


def _too_large(size: int, config: Config) -> str:
    return (
        f"the file is {size / 1e6:.1f} MB, larger than max-file-size ({config.max_file_size:g} MB), so it "
        "was not linted (raise `max-file-size` in [tool.dropout-lint] or with --max-file-size to lint it)"
    )


def crashed(path: str, enabled: frozenset[str], message: str) -> FileAnalysis:
    """A file whose analysis killed its process: an internal error at its first line."""
    found: tuple[Diagnostic, ...] = ()
    if INTERNAL_ERROR.code in enabled:
        found = (_diagnostic(INTERNAL_ERROR, message, path, Span(1, 0, 1, 1)),)
    return FileAnalysis(path, enabled, found)


def _unreadable(path: str, enabled: frozenset[str], message: str, line: int, column: int) -> FileAnalysis:
    found: tuple[Diagnostic, ...] = ()
    if PARSE_ERROR.code in enabled:
        found = (_diagnostic(PARSE_ERROR, message, path, Span(line, column, line, column + 1)),)
    return FileAnalysis(path, enabled, found)


def _diagnostic(rule: Rule, message: str, path: str, span: Span) -> Diagnostic:
    return Diagnostic(rule.code, rule.name, rule.severity, message, path, span)


def analyse_text(
    source: str,
    path: str,
    config: Config,
    enabled: Optional[frozenset[str]] = None,
    *,
    real_path: Optional[str] = None,
    keep_lines: bool = False,
) -> FileAnalysis:
    """The first phase for one file's text, within the configured time bound (of CPU
    time, see ``budget``)."""
    if enabled is None:
        enabled = config.enabled_for(path)
    try:
        with budget.bounded(config.file_timeout):
            return _analyse_text(source, path, config, enabled, real_path, keep_lines)
    except budget.TimedOut:
        noqa = tuple(collect_noqa(source).values())
        message = (
            f"linting this file took longer than {config.file_timeout:g} s of CPU time, so it was skipped "
            "(raise `file-timeout` in [tool.dropout-lint] or with --file-timeout to lint it)"
        )
        found: tuple[Diagnostic, ...] = ()
        if PARSE_ERROR.code in enabled:
            found = (_diagnostic(PARSE_ERROR, message, path, Span(1, 0, 1, 1)),)
        return FileAnalysis(path, enabled, found, noqa, None, (), real_path, cacheable=False)


def _analyse_text(
    source: str,
    path: str,
    config: Config,
    enabled: frozenset[str],
    real_path: Optional[str],
    keep_lines: bool,
) -> FileAnalysis:
    if len(source) > config.max_file_size * 1e6:
        return FileAnalysis(path, enabled, _unreadable(path, enabled, _too_large(len(source), config), 1, 0).diagnostics)
    noqa = tuple(collect_noqa(source).values())
    lines = tuple(split_lines(source)) if keep_lines else ()
    skippable = config.prefilter and not may_matter(source, enabled)
    if skippable or risky(source):
        # Python's parser first: it refuses what would crash libcst's, and a file it
        # accepts that holds nothing the selected rules look for need not be parsed.
        deep, parses = python_check(source)
        if deep is not None:
            message, span = deep
            found: tuple[Diagnostic, ...] = ()
            if PARSE_ERROR.code in enabled:
                found = (_diagnostic(PARSE_ERROR, message, path, span),)
            return FileAnalysis(path, enabled, found, noqa, None, lines, real_path)
        if skippable and parses:
            return FileAnalysis(path, enabled, (), noqa, None, lines, real_path)
    # A file to parse: the first one imports libcst, the context and the walker (``prepare``).
    import libcst as cst

    from dropout_lint.context import FileContext
    from dropout_lint.walker import Walker

    try:
        module = parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError) as exc:
        found = ()
        if PARSE_ERROR.code in enabled:
            message, span = parse_error(source, exc)
            found = (_diagnostic(PARSE_ERROR, message, path, span),)
        return FileAnalysis(path, enabled, found, noqa, None, lines, real_path)

    budget.check()  # the parse may end between two of its own looks at the bound
    ctx = FileContext(path, module, config)
    checks: list[object] = [check(ctx) for check in file_checks(enabled)]
    collector = None
    if PROJECT_CODES & config.enabled:
        from dropout_lint.project.extract import SummaryCollector

        collector = SummaryCollector(ctx)
        checks.append(collector)
    walker = Walker(checks, ctx.ancestors, collector.numbering if collector is not None else None)
    try:
        walker.walk(module)
    except RecursionError:
        span = Span(1, 0, 1, 1)
        found = (_diagnostic(PARSE_ERROR, "the code is nested too deeply to analyse", path, span),)
        return FileAnalysis(path, enabled, found, noqa, None, lines, real_path)

    budget.check()
    pending: list[Report] = list(ctx.reports)
    failed_collector = False
    for failure in walker.failures:
        if failure.check is collector:
            failed_collector = True
        pending.append(_crash(failure.check, failure.error, failure.node))
    summary = None
    if collector is not None and not failed_collector:
        from dropout_lint.project.extract import summarise

        try:
            summary = summarise(ctx, collector).pack()
        except Exception as error:  # a crash here must not lose the file's other findings
            pending.append(_crash(collector, error, module))
    if INTERNAL_ERROR.code not in enabled:
        pending = [p for p in pending if p[0] is not INTERNAL_ERROR]
    diagnostics = _locate(module, pending, path)
    if diagnostics and not lines:
        lines = tuple(split_lines(source))
    return FileAnalysis(path, enabled, tuple(diagnostics), noqa, summary, lines, real_path)


def _crash(check: object, error: BaseException, node: cst.CSTNode) -> Report:
    if isinstance(check, Check):
        rule = check.rule
        what = f"check {rule.code} ({rule.name})"
    else:
        what = "the summary for the cross-file rules"
    message = f"{what} crashed on this file: {type(error).__name__}: {error}; the other checks ran (please report this)"
    return INTERNAL_ERROR, node, message, None


def _locate(module: cst.Module, pending: Sequence[Report], path: str) -> list[Diagnostic]:
    """Turn reported nodes into positioned diagnostics (one code-generation pass, paid
    only by files that have something to report)."""
    if not pending:
        return []
    from dropout_lint.positions import locate

    nodes = [node for _, node, _, _ in pending]
    nodes.extend(edit.node for _, _, _, edit in pending if edit is not None)
    spans = locate(module, nodes)
    fallback = Span(1, 0, 1, 1)
    out = []
    for rule, node, message, edit in pending:
        diagnostic = _diagnostic(rule, message, path, spans.get(id(node), fallback))
        where = spans.get(id(edit.node)) if edit is not None else None
        if edit is not None and where is not None and rule.fix_safety is not None:
            replacement = edit.replacement
            text = replacement if isinstance(replacement, str) else _render(module, replacement, edit.indent)
            diagnostic = replace(diagnostic, fix=Fix(text, rule.fix_safety, edit.description, where))
        out.append(diagnostic)
    return out


def _render(module: cst.Module, node: cst.CSTNode, indent: str) -> str:
    """A node's code as it will stand in the block indented by ``indent`` (lines that a
    node breaks inside parentheses are indented relative to its block)."""
    from libcst._nodes.internal import CodegenState

    state = CodegenState(default_indent=module.default_indent, default_newline=module.default_newline)
    if indent:
        state.indent_tokens = [indent]
    node._codegen(state)
    return "".join(state.tokens)


def finish(analyses: Sequence[FileAnalysis], config: Config) -> list[FileResult]:
    """The second phase: cross-file rules over all summaries, then noqa, per file."""
    project = _project_findings(analyses, config)
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


def _project_findings(analyses: Sequence[FileAnalysis], config: Config) -> dict[str, list[Diagnostic]]:
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
        out.setdefault(path, []).append(_diagnostic(rule, finding.text(lambda p: _line_of(p, notebooks)), path, finding.place.span))
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
                    crashes.append(_diagnostic(INTERNAL_ERROR, message, first, Span(1, 0, 1, 1)))
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
        out.append(_diagnostic(UNUSED_NOQA, f"`# noqa` suppresses nothing here ({'; '.join(parts)})", path, span))
    return out
