from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from dropout_lint.analysis.syntax import assignment_targets, dotted_name, last_identifier
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.analysis.training import training_loops
from dropout_lint.diagnostics import Severity
from dropout_lint.rule import Check, Rule

if TYPE_CHECKING:
    from dropout_lint.context import FileContext

RULE = Rule(
    code="DL204",
    name="rate-changed-during-training",
    severity=Severity.WARNING,
    summary="A dropout rate is changed, or a dropout layer added, inside a training loop.",
)

_MODULE_ITERATORS = frozenset({"modules", "children", "named_modules", "named_children"})


class RateChangedDuringTraining(Check):
    rule = RULE

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._loops: dict[int, set[int]] = {}

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
        if name in ("add_module", "register_module", "setattr") and any(
            type(arg.value) is cst.Call and self._builds_dropout(arg.value) for arg in node.args
        ):
            self._report_in_loop(node, f"`{self.ctx.text(func)}(...)` adds a dropout layer")

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
            f"{what} inside the training loop: dropout should be in place with a fixed rate "
            "from the start of training, not changed or added late in it; set it up before "
            "training starts",
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
