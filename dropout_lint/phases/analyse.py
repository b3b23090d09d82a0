"""The first phase for one file's text: parse it once, and run every enabled check of
the syntax tree and the summary for the cross-file rules in one traversal.

libcst, the analyses and the checks of the syntax tree are imported when the first file
is parsed (``prepare``): a run whose files all come from the cache, or that skips them
all, needs none of them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, Optional

from dropout_lint import budget
from dropout_lint.catalog import INTERNAL_ERROR, PARSE_ERROR
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.noqa import collect_noqa
from dropout_lint.phases.diagnose import locate, make_diagnostic, too_large, unreadable
from dropout_lint.phases.results import FileAnalysis
from dropout_lint.prefilter import may_matter
from dropout_lint.registry import PROJECT_CODES, file_checks
from dropout_lint.rule import Check
from dropout_lint.source import parse_error, parse_module, python_check, risky, split_lines

if TYPE_CHECKING:
    import libcst as cst

    from dropout_lint.context import Report


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
            found = (make_diagnostic(PARSE_ERROR, message, path, Span(1, 0, 1, 1)),)
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
        return FileAnalysis(path, enabled, unreadable(path, enabled, too_large(len(source), config), 1, 0).diagnostics)
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
                found = (make_diagnostic(PARSE_ERROR, message, path, span),)
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
            found = (make_diagnostic(PARSE_ERROR, message, path, span),)
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
        found = (make_diagnostic(PARSE_ERROR, "the code is nested too deeply to analyse", path, span),)
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
    diagnostics = locate(module, pending, path)
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
