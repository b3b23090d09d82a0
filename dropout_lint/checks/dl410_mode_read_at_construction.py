from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dropout_lint.analysis.structure import ClassInfo
from dropout_lint.analysis.syntax import children, is_self_attribute, iter_nodes
from dropout_lint.analysis.vocabulary import MODE_SWITCHES
from dropout_lint.catalog import DL410 as RULE
from dropout_lint.rule import Check


_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)  # code that runs later, not now
# Wrappers through which a read still decides: `not self.training`, `a and self.training`.
_PASS_THROUGH = (cst.BooleanOperation, cst.UnaryOperation, cst.Comparison, cst.ComparisonTarget)


class ModeReadAtConstruction(Check):
    rule = RULE

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        cls = self.ctx.facts.class_info(node)
        if "training" in cls.class_attrs or "training" in cls.methods or not self.ctx.facts.is_module_class(cls):
            return  # a class of its own `training` (a property, a class default) is not the flag
        init = cls.methods.get("__init__")
        if init is None:
            return
        for method in (init, *_construction_helpers(self.ctx.module, cls, init)):
            self_name = self.ctx.facts.function(method).self_name
            if self_name is None:
                continue
            where = "`__init__`" if method is init else f"`{method.name.value}`, which only `__init__` calls"
            for read in _deciding_reads(method, self_name):
                self.report(
                    read,
                    f"`{self_name}.training` is always `True` in {where}, so `eval()` cannot undo this "
                    "choice; read the flag in `forward`",
                )


def _construction_helpers(module: cst.Module, cls: ClassInfo, init: cst.FunctionDef) -> list[cst.FunctionDef]:
    """The private methods (``self._build()``) that read ``training``, that ``__init__``
    calls and that nothing else in the file names: they run at construction only."""
    called = {
        node.func.attr.value
        for node in iter_nodes(init)
        if type(node) is cst.Call and type(node.func) is cst.Attribute and is_self_attribute(node.func) is not None
    }
    helpers = []
    for name in sorted(called):
        method = cls.methods.get(name)
        if method is None or method is init or not name.startswith("_") or name.startswith("__"):
            continue
        if not any(type(node) is cst.Attribute and node.attr.value == "training" for node in iter_nodes(method)):
            continue
        if _mentions(module, name) == _mentions(init, name):
            helpers.append(method)
    return helpers


def _mentions(scope: cst.CSTNode, attr: str) -> int:
    return sum(1 for node in iter_nodes(scope) if type(node) is cst.Attribute and node.attr.value == attr)


def _deciding_reads(method: cst.FunctionDef, self_name: str) -> Iterator[cst.Attribute]:
    """Reads of ``self.training`` in ``method`` (not in nested functions), in source order,
    up to the first node that sets the mode, that choose a value, choose the parts a
    branch builds, or hand the flag on."""
    path: list[cst.CSTNode] = []  # the nodes above the one taken off the stack
    stack = [(statement, 0) for statement in reversed(children(method.body)) if not isinstance(statement, _SCOPES)]
    while stack:
        node, depth = stack.pop()
        del path[depth:]
        if _sets_mode(node, self_name):
            return  # later reads see what the method set
        if type(node) is cst.Attribute and node.attr.value == "training" and is_self_attribute(node, self_name):
            if _decides(path, node, self_name):
                yield node
            continue
        path.append(node)
        for child in reversed(children(node)):
            if not isinstance(child, _SCOPES):
                stack.append((child, depth + 1))


def _sets_mode(node: cst.CSTNode, self_name: str) -> bool:
    """``self.training = ...``, ``self.train(...)`` or ``self.eval()``."""
    if isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
        return "training" in _assigned_attributes(node, self_name)
    if type(node) is cst.Call and type(node.func) is cst.Attribute:
        return node.func.attr.value in MODE_SWITCHES and type(node.func.value) is cst.Name and node.func.value.value == self_name
    return False


def _decides(path: list[cst.CSTNode], read: cst.Attribute, self_name: str) -> bool:
    """Whether the read, seen from the nodes above it, picks a value (the test of a
    conditional expression), picks what a branch sets on the module, is passed to a
    call, or is stored on the module."""
    child: cst.CSTNode = read
    for parent in reversed(path):
        if isinstance(parent, _PASS_THROUGH) or (type(parent) is cst.IfExp and child is not parent.test):
            child = parent
            continue
        if type(parent) is cst.IfExp:
            return True
        if isinstance(parent, (cst.If, cst.While)) and child is parent.test:
            return _sets_attributes(parent, self_name)
        if type(parent) is cst.Arg:
            return True
        if type(parent) is cst.Assign:
            return bool(_assigned_attributes(parent, self_name))
        return False
    return False


def _sets_attributes(branch: cst.CSTNode, self_name: str) -> bool:
    """Whether a branch assigns an attribute of the module (a part or a setting)."""
    return any(
        isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and _assigned_attributes(node, self_name)
        for node in iter_nodes(branch)
    )


def _assigned_attributes(node: cst.Assign | cst.AnnAssign | cst.AugAssign, self_name: str) -> set[str]:
    """The attributes of ``self`` an assignment sets."""
    targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
    return {attr for attr in (is_self_attribute(t, self_name) for t in targets) if attr is not None}
