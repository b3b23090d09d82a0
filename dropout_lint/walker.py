"""One traversal of a syntax tree that drives every check at once.

libcst's own visitor rebuilds each node as it walks (it is shared with transformers),
which costs about four times a read-only walk over the dataclass fields. Checks only
read, so the engine walks the fields itself, skipping whitespace, and calls each check's
``visit_<Type>`` before a node's children and ``leave_<Type>`` after them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Optional

import libcst as cst

from dropout_lint import budget
from dropout_lint.analysis.syntax import field_reader, is_node_type

Callback = Callable[[Any], None]


@dataclasses.dataclass
class CheckFailure:
    check: object
    error: BaseException
    node: cst.CSTNode


class Walker:
    """Walks a tree once, calling the checks' visit/leave methods.

    ``ancestors`` holds the nodes above the one being visited, outermost first. A check
    that raises is switched off for the rest of the file and recorded in ``failures``.
    """

    def __init__(
        self,
        checks: Sequence[object],
        ancestors: list[cst.CSTNode],
        numbering: Optional[dict[int, int]] = None,
    ) -> None:
        self.ancestors = ancestors
        # The rank of each node in the traversal, when asked for (the cross-file summary
        # names nodes by rank; see project.summary.Place).
        self.numbering = numbering
        self.failures: list[CheckFailure] = []
        self._failed: set[int] = set()
        self._visit: dict[str, list[tuple[object, Callback]]] = {}
        self._leave: dict[str, list[tuple[object, Callback]]] = {}
        for check in checks:
            for attr in _callback_names(type(check)):
                table = self._visit if attr.startswith("visit_") else self._leave
                table.setdefault(attr[6:], []).append((check, getattr(check, attr)))

    def _call(self, callbacks: list[tuple[object, Callback]], node: cst.CSTNode) -> None:
        for check, callback in callbacks:
            if id(check) in self._failed:
                continue
            try:
                callback(node)
            except Exception as error:  # a crashing check must not stop the others
                self._failed.add(id(check))
                self.failures.append(CheckFailure(check, error, node))

    def walk(self, root: cst.CSTNode) -> None:
        # The hot loop of the analysis: a node's children are read and pushed here rather
        # than through syntax.children or push_children, which saved a list or a call per
        # node (about a quarter of the walk's own time), and a node is left when _LEAVE
        # comes off the stack, the node being the innermost ancestor.
        ancestors = self.ancestors
        numbering = self.numbering
        # Per node type: the callbacks (looked up by class name), the field reader.
        visits: dict[type, Optional[list[tuple[object, Callback]]]] = {}
        leaves: dict[type, Optional[list[tuple[object, Callback]]]] = {}
        readers: dict[type, Optional[Callable[[cst.CSTNode], tuple[Any, ...]]]] = {}
        stack: list[Any] = [root]
        push = stack.append
        pop = stack.pop
        countdown = budget.EVERY  # inner nodes until the next look at the file's time bound
        while stack:
            node = pop()
            if node is _LEAVE:
                node = ancestors.pop()
                kind = type(node)
                if kind not in leaves:
                    leaves[kind] = self._leave.get(kind.__name__)
                callbacks = leaves[kind]
                if callbacks:
                    self._call(callbacks, node)
                continue
            kind = type(node)
            if numbering is not None:
                numbering[id(node)] = len(numbering)
            if kind not in visits:
                visits[kind] = self._visit.get(kind.__name__)
                readers[kind] = field_reader(kind)
            callbacks = visits[kind]
            if callbacks:
                self._call(callbacks, node)
            reader = readers[kind]
            if reader is None:
                # A leaf (a name, a literal, a bracket: nearly half the nodes) is left at
                # once, with the same ancestors as its visit.
                if kind not in leaves:
                    leaves[kind] = self._leave.get(kind.__name__)
                callbacks = leaves[kind]
                if callbacks:
                    self._call(callbacks, node)
                continue
            countdown -= 1
            if not countdown:
                countdown = budget.EVERY
                budget.check()
            ancestors.append(node)
            push(_LEAVE)
            for value in reversed(reader(node)):
                held = type(value)
                if held is list or held is tuple:
                    stack.extend(reversed(value))  # libcst's sequence fields hold nodes only
                elif held is not _NONE and is_node_type(held):
                    push(value)


def _callback_names(check_type: type) -> list[str]:
    """The ``visit_*`` and ``leave_*`` methods of a check class (found once per class:
    ``dir`` of every check for every file was 1 % of the analysis)."""
    names = _CALLBACKS.get(check_type)
    if names is None:
        names = _CALLBACKS[check_type] = [
            attr for attr in dir(check_type) if attr.startswith("visit_") or attr.startswith("leave_")
        ]
    return names


_CALLBACKS: dict[type, list[str]] = {}
# Marks, on the walk's stack, where the node above it is left.
_LEAVE = object()
_NONE = type(None)
