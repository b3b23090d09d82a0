"""Where nodes are in the source: line and column of chosen nodes only.

libcst's ``PositionProvider`` records a position for every node of a module and costs
about twice the parse itself (measured on timm). A finding needs the positions of a
handful of nodes, so this generates the code once, counting lines and columns, and
keeps the positions of the nodes asked for. Positions are the same as the provider's
(syntactic: without the parentheses around an expression).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from types import TracebackType
from typing import Optional

import libcst as cst
from libcst._nodes.internal import CodegenState

from dropout_lint.diagnostics import Span

_NEWLINE = re.compile(r"\r\n?|\n")


class _Record:
    """A context manager recording where one node's syntactic code starts and ends."""

    __slots__ = ("state", "node", "start", "end_node")

    def __init__(self, state: _LocatingState, node: cst.CSTNode, end_node: Optional[cst.CSTNode]) -> None:
        self.state = state
        self.node = node
        self.end_node = end_node
        self.start = (0, 0)

    def __enter__(self) -> None:
        self.start = (self.state.line, self.state.column)

    def __exit__(
        self,
        kind: Optional[type[BaseException]],
        error: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        state = self.state
        end = (state.line, state.column)
        if self.end_node is not None and id(self.end_node) in state.found:
            found = state.found[id(self.end_node)]
            end = (found.end_line, found.end_column)
        state.found[id(self.node)] = Span(self.start[0], self.start[1], end[0], end[1])
        state.check_done()


class _AllFound(Exception):
    """Every node asked for is placed: the rest of the code need not be generated."""


class _Nothing:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


_NOTHING = _Nothing()


class _LocatingState(CodegenState):
    def __init__(self, module: cst.Module, targets: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.targets = targets
        self.found: dict[int, Span] = {}
        self.line = 1
        self.column = 0
        self._starts: dict[int, tuple[int, int]] = {}

    def _advance(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            segments = _NEWLINE.split(value)
            self.line += len(segments) - 1
            self.column = len(segments[-1])
        else:
            self.column += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        for token in self.indent_tokens:
            self._advance(token)

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self._advance(value)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.targets:
            self._starts[id(node)] = (self.line, self.column)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        start = self._starts.pop(key, None)
        if start is None:
            return
        if key not in self.found:  # else placed syntactically, by its _Record
            self.found[key] = Span(start[0], start[1], self.line, self.column)
        self.check_done()

    def check_done(self) -> None:
        """Stop generating code once every node asked for is placed and closed."""
        if not self._starts and len(self.found) >= len(self.targets):
            raise _AllFound

    def record_syntactic_position(  # type: ignore[override]
        self,
        node: cst.CSTNode,
        *,
        start_node: Optional[cst.CSTNode] = None,
        end_node: Optional[cst.CSTNode] = None,
    ) -> object:
        if id(node) not in self.targets:
            return _NOTHING
        if end_node is not None:
            # The node ends where end_node does (a block's last statement): place it too.
            self.targets.add(id(end_node))
        return _Record(self, node, end_node)


def locate(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, Span]:
    """Span of each node (keyed by ``id``), as libcst's ``PositionProvider`` gives it."""
    targets = {id(node) for node in nodes}
    if not targets:
        return {}
    state = _LocatingState(module, targets)
    try:
        module._codegen(state)
    except _AllFound:
        pass  # the code after the last node asked for is not generated
    return state.found
