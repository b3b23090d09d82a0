"""Whether code uses a value as a torch module: called, or given nn.Module's own methods."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import dotted_name, push_children
from dropout_lint.analysis.vocabulary import MODE_SWITCHES, MODEL_METHODS

# Called on a value, any of these (or a mode switch, or `forward`) marks it as a module.
_MODULE_USES = MODEL_METHODS | MODE_SWITCHES | {"forward"}


def module_used(call: cst.Call) -> Optional[str]:
    """The value (dotted, like ``model`` or ``self.encoder``) that ``call`` uses as a
    module: the one it calls, indexes and calls (``self.blocks[i](x)``), or gives an
    ``nn.Module`` method (``model.eval()``); None when it uses none."""
    func = call.func
    if type(func) is cst.Subscript:
        return dotted_name(func.value)
    name = dotted_name(func)
    if name is not None and "." in name and type(func) is cst.Attribute and func.attr.value in _MODULE_USES:
        return dotted_name(func.value)
    return name


def used_as_module(scope: cst.CSTNode, names: frozenset[str]) -> bool:
    """Whether ``scope`` calls one of ``names`` or calls an ``nn.Module`` method on it:
    evidence that the value is a torch module."""
    stack: list[cst.CSTNode] = [scope]
    while stack:
        node = stack.pop()
        if type(node) is cst.Call and module_used(node) in names:
            return True
        push_children(stack, node)
    return False
