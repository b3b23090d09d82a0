"""Diagnostics: from a rule, a message and a place; for a file that was not linted; and
from the nodes the checks reported, positioned and with their fixes rendered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from dropout_lint.catalog import INTERNAL_ERROR, PARSE_ERROR, Rule
from dropout_lint.config import Config
from dropout_lint.diagnostics import Diagnostic, Fix, Span
from dropout_lint.phases.results import FileAnalysis

if TYPE_CHECKING:
    import libcst as cst

    from dropout_lint.context import Report


def too_large(size: int, config: Config) -> str:
    return (
        f"the file is {size / 1e6:.1f} MB, larger than max-file-size ({config.max_file_size:g} MB), so it "
        "was not linted (raise `max-file-size` in [tool.dropout-lint] or with --max-file-size to lint it)"
    )


def crashed(path: str, enabled: frozenset[str], message: str) -> FileAnalysis:
    """A file whose analysis killed its process: an internal error at its first line."""
    found: tuple[Diagnostic, ...] = ()
    if INTERNAL_ERROR.code in enabled:
        found = (make_diagnostic(INTERNAL_ERROR, message, path, Span(1, 0, 1, 1)),)
    return FileAnalysis(path, enabled, found)


def unreadable(path: str, enabled: frozenset[str], message: str, line: int, column: int) -> FileAnalysis:
    found: tuple[Diagnostic, ...] = ()
    if PARSE_ERROR.code in enabled:
        found = (make_diagnostic(PARSE_ERROR, message, path, Span(line, column, line, column + 1)),)
    return FileAnalysis(path, enabled, found)


def make_diagnostic(rule: Rule, message: str, path: str, span: Span) -> Diagnostic:
    return Diagnostic(rule.code, rule.name, rule.severity, message, path, span)


def locate(module: cst.Module, pending: Sequence[Report], path: str) -> list[Diagnostic]:
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
        diagnostic = make_diagnostic(rule, message, path, spans.get(id(node), fallback))
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
