"""Where a line sits in its file: the statement, function and class around it, and the
``# noqa`` comments of the file. Read with ``ast`` once per file, without torch.

The tracer reports the line Python gives for a call, which in a call written over
several lines (``F.scaled_dot_product_attention(\\n q,\\n ...)``) is not always the
line the static pass points at; both lie in the same statement.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from typing import Optional

from dropout_lint.noqa import Noqa, collect_noqa

Lines = tuple[int, int]  # first and last line, both included


@dataclass(frozen=True)
class Place:
    """One file's structure, as line ranges."""

    path: str
    lines: tuple[str, ...] = ()
    statements: dict[int, Lines] = field(default_factory=dict)  # line -> its innermost statement
    functions: tuple[Lines, ...] = ()
    classes: tuple[Lines, ...] = ()
    noqa: dict[int, Noqa] = field(default_factory=dict)

    def statement(self, line: int) -> Lines:
        """The innermost statement holding ``line`` (a compound statement's header only)."""
        return self.statements.get(line, (line, line))

    def function(self, line: int) -> Optional[Lines]:
        return _innermost(self.functions, line)

    def class_(self, line: int) -> Optional[Lines]:
        return _innermost(self.classes, line)

    def suppresses(self, line: int, code: str) -> bool:
        directive = self.noqa.get(line)
        return directive is not None and directive.suppresses(code)


def _innermost(ranges: tuple[Lines, ...], line: int) -> Optional[Lines]:
    holding = [r for r in ranges if r[0] <= line <= r[1]]
    return min(holding, key=lambda r: r[1] - r[0]) if holding else None


def _start(node: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(node, "decorator_list", None) or []
    return min([node.lineno, *(d.lineno for d in decorators)])


def _own_lines(node: ast.stmt) -> Lines:
    """A simple statement's lines; a compound one's header (up to its first body line)."""
    end = node.end_lineno or node.lineno
    body = getattr(node, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        end = max(node.lineno, body[0].lineno - 1)
    return _start(node), end


def place_of(path: str) -> Place:
    """The structure of the file at ``path`` (an empty one if it cannot be read or parsed)."""
    try:
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
    except (OSError, UnicodeDecodeError):
        return Place(path)
    lines = tuple(source.splitlines())
    noqa = collect_noqa(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return Place(path, lines, noqa=noqa)
    statements: dict[int, Lines] = {}
    owned = sorted((_own_lines(n) for n in ast.walk(tree) if isinstance(n, ast.stmt)), key=lambda r: r[0] - r[1])
    for first, last in owned:  # widest first: narrower statements overwrite their lines
        for line in range(first, last + 1):
            statements[line] = (first, last)
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    functions = tuple((_start(n), n.end_lineno or n.lineno) for n in scopes if not isinstance(n, ast.ClassDef))
    classes = tuple((_start(n), n.end_lineno or n.lineno) for n in scopes if isinstance(n, ast.ClassDef))
    return Place(path, lines, statements, functions, classes, noqa)


def real(path: str) -> str:
    """A path as the same file is named from anywhere (relative, ``..``, links)."""
    return os.path.realpath(path)
