"""Lint one file: read, parse once, run every enabled check in one traversal, apply noqa.

``lint_source`` is the library entry point; it works without the command line.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from dropout_lint.config import Config
from dropout_lint.context import FileContext
from dropout_lint.diagnostics import Diagnostic, Span
from dropout_lint.noqa import Noqa, collect_noqa
from dropout_lint.positions import locate
from dropout_lint.registry import CHECKS, INTERNAL_ERROR, PARSE_ERROR, RULES_BY_CODE, UNUSED_NOQA
from dropout_lint.rule import Rule
from dropout_lint.source import decode_source
from dropout_lint.walker import Walker

_LIBCST_POSITION = re.compile(r"error at (\d+):(\d+)")
# Python's own line breaks; str.splitlines() also splits on form feeds and other characters.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class FileResult:
    """The findings of one file, and its lines when a reporter may need to show them."""

    path: str
    diagnostics: tuple[Diagnostic, ...]
    lines: tuple[str, ...] = ()


def lint_source(source: str, path: str = "<string>", config: Optional[Config] = None) -> list[Diagnostic]:
    """The findings for Python source text, sorted by position."""
    return list(_lint_text(source, path, config or Config()))


def lint_file(path: str, config: Config, display_path: Optional[str] = None) -> FileResult:
    """Read and lint one file. Unreadable or undecodable files become a DL900 finding."""
    shown = display_path or path
    enabled = config.enabled_for(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return _unreadable(shown, enabled, f"cannot read file: {reason}", 1, 0)
    text, error = decode_source(data)
    if text is None:
        assert error is not None
        return _unreadable(shown, enabled, error.message, error.line, error.column)
    diagnostics = _lint_text(text, shown, config, enabled)
    lines = tuple(_LINE_BREAK.split(text)) if diagnostics else ()
    return FileResult(shown, diagnostics, lines)


def _unreadable(path: str, enabled: frozenset[str], message: str, line: int, column: int) -> FileResult:
    if PARSE_ERROR.code not in enabled:
        return FileResult(path, ())
    return FileResult(path, (_diagnostic(PARSE_ERROR, message, path, Span(line, column, line, column + 1)),))


def _diagnostic(rule: Rule, message: str, path: str, span: Span) -> Diagnostic:
    return Diagnostic(rule.code, rule.name, rule.severity, message, path, span)


def _lint_text(
    source: str, path: str, config: Optional[Config], enabled: Optional[frozenset[str]] = None
) -> tuple[Diagnostic, ...]:
    config = config or Config()
    if enabled is None:
        enabled = config.enabled_for(path)
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError) as exc:
        if PARSE_ERROR.code not in enabled:
            return ()
        message, span = _parse_error(source, exc)
        return (_diagnostic(PARSE_ERROR, message, path, span),)

    ctx = FileContext(path, module, config)
    checks = [check(ctx) for check in CHECKS if check.rule.code in enabled]
    walker = Walker(checks, ctx.ancestors)
    try:
        walker.walk(module)
    except RecursionError:
        return (
            _diagnostic(PARSE_ERROR, "the code is nested too deeply to analyse", path, Span(1, 0, 1, 1)),
        )
    pending: list[tuple[Rule, cst.CSTNode, str]] = list(ctx.reports)
    if INTERNAL_ERROR.code in enabled:
        for failure in walker.failures:
            rule = failure.check.rule
            error = failure.error
            pending.append(
                (
                    INTERNAL_ERROR,
                    failure.node,
                    f"check {rule.code} ({rule.name}) crashed on this file: "
                    f"{type(error).__name__}: {error}; the other checks ran (please report this)",
                )
            )

    diagnostics = _locate(module, pending, path)
    noqa = collect_noqa(source) if (diagnostics or UNUSED_NOQA.code in enabled) else {}
    kept, used = _apply_noqa(diagnostics, noqa)
    if UNUSED_NOQA.code in enabled:
        kept.extend(_unused_noqa(noqa, used, enabled, path))
    return tuple(sorted(set(kept), key=lambda d: d.sort_key))


def _locate(module: cst.Module, pending: Sequence[tuple[Rule, cst.CSTNode, str]], path: str) -> list[Diagnostic]:
    """Turn reported nodes into positioned diagnostics (one code-generation pass, paid
    only by files that have something to report)."""
    if not pending:
        return []
    spans = locate(module, [node for _, node, _ in pending])
    fallback = Span(1, 0, 1, 1)
    return [_diagnostic(rule, message, path, spans.get(id(node), fallback)) for rule, node, message in pending]


def _apply_noqa(diagnostics: list[Diagnostic], noqa: dict[int, Noqa]) -> tuple[list[Diagnostic], set[tuple[int, str]]]:
    kept: list[Diagnostic] = []
    used: set[tuple[int, str]] = set()
    for diagnostic in diagnostics:
        directive = noqa.get(diagnostic.span.line)
        if directive is not None and directive.suppresses(diagnostic.code):
            used.add((directive.line, diagnostic.code))
            continue
        kept.append(diagnostic)
    return kept, used


def _unused_noqa(
    noqa: dict[int, Noqa], used: set[tuple[int, str]], enabled: frozenset[str], path: str
) -> list[Diagnostic]:
    out = []
    for directive in noqa.values():
        if directive.codes is None:
            continue  # a bare noqa may serve other linters
        ours = [c for c in directive.codes if c.startswith("DL")]
        unknown = [c for c in ours if c not in RULES_BY_CODE]
        unused = [c for c in ours if c in enabled and (directive.line, c) not in used]
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


def _parse_error(source: str, exc: BaseException) -> tuple[str, Span]:
    """The message and place of a syntax error, as precise as Python's own parser gives."""
    if isinstance(exc, RecursionError):
        return "the code is nested too deeply to parse", Span(1, 0, 1, 1)
    if isinstance(exc, MemoryError):
        return "the file is too large to parse", Span(1, 0, 1, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(source)
    except SyntaxError as syntax:
        line = syntax.lineno or 1
        column = max((syntax.offset or 1) - 1, 0)
        return f"syntax error: {syntax.msg}", Span(line, column, line, column + 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    text = getattr(exc, "message", None) or str(exc)
    first = text.splitlines()[0] if text else "cannot parse"
    found = _LIBCST_POSITION.search(first)
    if found:
        line, column = int(found.group(1)), max(int(found.group(2)) - 1, 0)
    else:
        line = getattr(exc, "raw_line", 1) or 1
        column = getattr(exc, "raw_column", 0) or 0
    return f"syntax error: {first}", Span(line, column, line, column + 1)
