from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from dropout_lint.analysis.syntax import assignment_targets, dotted_name, iter_nodes, last_identifier, target_names
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.analysis.training import training_loops
from dropout_lint.catalog import DL204 as RULE
from dropout_lint.rule import Check

if TYPE_CHECKING:
    from dropout_lint.context import FileContext


_MODULE_ITERATORS = frozenset({"modules", "children", "named_modules", "named_children"})


class RateChangedDuringTraining(Check):
    rule = RULE

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._loops: dict[int, set[int]] = {}
        self._setters: Optional[dict[str, cst.Assign]] = None

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            expr = target.target
            if type(expr) is not cst.Attribute:
                continue
            if expr.attr.value == "p" and self._is_dropout(expr.value):
                self._report_in_loop(expr, f"`{self.ctx.text(expr)}` changes a dropout rate")
            elif type(node.value) is cst.Call and self._builds_dropout(node.value):
                self._report_in_loop(expr, f"`{self.ctx.text(expr)} = {self.ctx.text(node.value.func)}(...)` adds a dropout layer")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        name = func.attr.value if type(func) is cst.Attribute else getattr(func, "value", None)
        setter = self._rate_setters().get(func.value) if type(func) is cst.Name else None
        if setter is not None:
            shown = self.ctx.text(setter.targets[0].target)
            self._report_in_loop(node, f"`{self.ctx.text(func)}(...)` changes a dropout rate (`{shown} = ...` there)")
            return
        if name in ("add_module", "register_module", "setattr") and any(
            type(arg.value) is cst.Call and self._builds_dropout(arg.value) for arg in node.args
        ):
            self._report_in_loop(node, f"`{self.ctx.text(func)}(...)` adds a dropout layer")

    def _rate_setters(self) -> dict[str, cst.Assign]:
        """The module's functions that change a dropout rate, by name, with the assignment
        that does (``def set_dropout(model, p): for m in model.modules(): m.p = p``)."""
        if self._setters is None:
            self._setters = {}
            for stmt in self.ctx.module.body:
                if type(stmt) is cst.FunctionDef:
                    assignment = _rate_assignment(stmt)
                    if assignment is not None:
                        self._setters[stmt.name.value] = assignment
        return self._setters

    def _builds_dropout(self, call: cst.Call, depth: int = 0) -> bool:
        """A dropout module, or a container built with one (``nn.Sequential(nn.Dropout(p), head)``)."""
        api = self.ctx.api(call)
        if api is not None and api.kind is ApiKind.MODULE:
            return True
        return depth < 3 and any(
            type(arg.value) is cst.Call and self._builds_dropout(arg.value, depth + 1) for arg in call.args
        )

    def _is_dropout(self, receiver: cst.BaseExpression) -> bool:
        """``model.dropout`` (named like one), or ``m`` from ``for m in model.modules()``."""
        name = last_identifier(receiver)
        if name is not None and "drop" in name.lower():
            return True
        root = dotted_name(receiver)
        if root is None:
            return False
        for ancestor in reversed(self.ctx.ancestors):
            if type(ancestor) is cst.For and type(ancestor.iter) is cst.Call:
                func = ancestor.iter.func
                if type(func) is cst.Attribute and func.attr.value in _MODULE_ITERATORS:
                    if any(dotted_name(t) == root for t, _ in assignment_targets(ancestor)):
                        return True
        return False

    def _report_in_loop(self, node: cst.CSTNode, what: str) -> None:
        loop = self._training_loop()
        if loop is None:
            return
        self.report(
            node,
            f"{what} inside the training loop; set dropout up before training starts",
        )

    def _training_loop(self) -> Optional[cst.CSTNode]:
        """The innermost enclosing loop that takes training steps (in this function)."""
        for ancestor in reversed(self.ctx.ancestors):
            if isinstance(ancestor, (cst.FunctionDef, cst.ClassDef)):
                return None
            if isinstance(ancestor, (cst.For, cst.While)):
                function = self.ctx.enclosing_function()
                scope: cst.CSTNode = function if function is not None else self.ctx.module
                loops = self._loops.get(id(scope))
                if loops is None:
                    loops = self._loops[id(scope)] = training_loops(scope)
                if id(ancestor) in loops:
                    return ancestor
        return None


def _rate_assignment(function: cst.FunctionDef) -> Optional[cst.Assign]:
    """The first assignment in ``function`` to the rate of a dropout: ``x.dropout.p = ...``
    (named like one) or ``m.p = ...`` for ``m`` of a loop over ``.modules()`` and the like."""
    modules: set[str] = set()
    for node in iter_nodes(function):
        if type(node) is cst.For and type(node.iter) is cst.Call and type(node.iter.func) is cst.Attribute:
            if node.iter.func.attr.value in _MODULE_ITERATORS:
                modules.update(target_names(node.target))
    for node in iter_nodes(function):
        if type(node) is not cst.Assign:
            continue
        for target in node.targets:
            expr = target.target
            if type(expr) is cst.Attribute and expr.attr.value == "p":
                name = last_identifier(expr.value) or ""
                if "drop" in name.lower() or dotted_name(expr.value) in modules:
                    return node
    return None
