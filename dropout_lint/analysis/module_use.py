"""Whether code uses a value as a torch module: called, or given nn.Module's own methods."""

from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.syntax import dotted_name, push_children
from dropout_lint.analysis.vocabulary import MODE_SWITCHES, MODEL_METHODS

# Called on a value, any of these (or a mode switch, or `forward`) marks it as a module.
_MODULE_USES = MODEL_METHODS | MODE_SWITCHES | {"forward"}


def used_as_module(scope: cst.CSTNode, names: frozenset[str]) -> bool:
    """Whether ``scope`` calls one of ``names`` (dotted, like ``model`` or ``self.encoder``)
    or calls an ``nn.Module`` method on it: evidence that the value is a torch module."""
    stack: list[cst.CSTNode] = [scope]
    while stack:
        node = stack.pop()
        if type(node) is cst.Call:
            func = node.func
            if dotted_name(func) in names:
                return True
            if type(func) is cst.Attribute and func.attr.value in _MODULE_USES and dotted_name(func.value) in names:
                return True
        push_children(stack, node)
    return False
