"""Loops over a module's submodules (``for m in self.modules():``) that only look at
them: set a rate, initialise weights, switch a mode. Such a loop applies no layer, so
it does not make every registered dropout possibly used."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

import libcst as cst

# Builtins that look at a module without applying it: `isinstance(m, nn.Dropout)`.
_INSPECTING = frozenset({"isinstance", "hasattr", "getattr", "setattr", "type", "id", "print", "repr", "str"})


def only_inspects(call: cst.Call, ancestors: Sequence[cst.CSTNode]) -> bool:
    """Whether ``call`` (``self.modules()`` and the like) is iterated by a ``for`` loop
    whose body applies none of the modules it yields: every use of the loop variable
    reads an attribute of it (other than ``forward``) or is handed to an inspecting
    builtin. Other uses (a comprehension, ``nn.Sequential(*self.children())``) may
    apply them: False."""
    loop = _loop_over(call, ancestors)
    if loop is None:
        return False
    names = _bound_names(loop.target)
    if not names:
        return False
    return not any(_applies(child, loop, None, names) for child in (loop.body, loop.orelse) if child is not None)


def _loop_over(call: cst.Call, ancestors: Sequence[cst.CSTNode]) -> Optional[cst.For]:
    """The ``for`` loop whose iterable is ``call``, directly or wrapped in
    ``enumerate``/``list``/``reversed``."""
    for node in reversed(ancestors):
        if type(node) is cst.For:
            iterable = node.iter
            if iterable is call:
                return node
            if (
                type(iterable) is cst.Call
                and type(iterable.func) is cst.Name
                and iterable.func.value in ("enumerate", "list", "reversed")
                and iterable.args
                and iterable.args[0].value is call
            ):
                return node
            return None
        if isinstance(node, (cst.BaseSuite, cst.BaseStatement)):
            return None
    return None


def _bound_names(target: cst.BaseAssignTargetExpression) -> set[str]:
    if type(target) is cst.Name:
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {element.value.value for element in target.elements if type(element.value) is cst.Name}
    return set()


def _applies(node: cst.CSTNode, parent: Optional[cst.CSTNode], grandparent: Optional[cst.CSTNode], names: set[str]) -> bool:
    if type(node) is cst.Name and node.value in names:
        return not _inspected(node, parent, grandparent)
    return any(_applies(child, node, parent, names) for child in node.children)


def _inspected(name: cst.Name, parent: Optional[cst.CSTNode], grandparent: Optional[cst.CSTNode]) -> bool:
    if type(parent) is cst.Attribute and parent.value is name:
        return parent.attr.value != "forward"
    if type(parent) is cst.Arg and type(grandparent) is cst.Call:
        func = grandparent.func
        return type(func) is cst.Name and func.value in _INSPECTING
    # A module compared (`m is self.head`) is not applied.
    return isinstance(parent, (cst.Comparison, cst.ComparisonTarget))
