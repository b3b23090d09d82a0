from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Optional

import libcst as cst

from dropout_lint.analysis.syntax import is_self_attribute
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.catalog import DL201 as RULE
from dropout_lint.checks._rates import describe_rate
from dropout_lint.rule import Check

if TYPE_CHECKING:
    from dropout_lint.analysis.structure import Binding
    from dropout_lint.context import FileContext


def _not_a_number(expr: cst.BaseExpression) -> Optional[str]:
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
        return "a string"
    if type(expr) is cst.Name and expr.value == "None":
        return "`None`"
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set, cst.Dict)):
        return "a collection"
    return None


def _is_training_flag(expr: cst.BaseExpression) -> bool:
    if type(expr) is cst.Attribute:
        return expr.attr.value == "training"
    return type(expr) is cst.Name and expr.value == "training"


class InvalidDropoutRate(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        found = self.ctx.rate_argument(node)
        if found is None:
            return
        api, expr = found
        keyword = api.rate.keyword
        callee = self.ctx.text(node.func)
        if _is_training_flag(expr):
            self.report(
                expr,
                f"the training flag `{self.ctx.text(expr)}` is passed as the rate `{keyword}` of `{callee}`; "
                f"pass the rate, and `training={self.ctx.text(expr)}`",
            )
            return
        module = self._dropout_module(expr)
        if module is not None:
            self.report(
                module,
                f"`{keyword}` of `{callee}` is the dropout module `{self.ctx.text(module)}`, not a number; "
                f"pass its rate, `{self.ctx.text(module)}.p`",
            )
            return
        if type(expr) is cst.Name and expr.value in ("True", "False"):
            if expr.value == "True":  # torch reads a bool as 0 or 1; `False` is no dropout
                self.report(expr, f"`{keyword}=True` of `{callee}` is read as 1 by torch: it drops every unit")
            return
        kind = _not_a_number(expr)
        if kind is not None:
            self.report(expr, f"`{keyword}` of `{callee}` is {kind}, not a number in [0, 1)")
            return
        resolved = self.ctx.resolve_number(expr)
        if resolved is None:
            return
        rate = describe_rate(keyword, self.ctx.text(expr), resolved)
        if resolved.value < 0 or resolved.value > 1:
            self.report(expr, f"{rate} of `{callee}` is outside [0, 1]: torch rejects it")
        elif resolved.value == 1:
            self.report(expr, f"{rate} of `{callee}` drops every unit: the output is all zeros in training")

    def _dropout_module(self, expr: cst.BaseExpression) -> Optional[cst.Attribute]:
        """``self.<name>`` (or a branch of ``... if self.training else ...`` that is one)
        when every assignment of that attribute in the class builds a dropout module."""
        cls, method = self.ctx.module_method()
        if cls is None or method is None:
            return None
        self_name = self.ctx.facts.function(method).self_name or "self"
        candidates = (expr.body, expr.orelse) if type(expr) is cst.IfExp else (expr,)
        for candidate in candidates:
            if type(candidate) is not cst.Attribute:
                continue
            attr = is_self_attribute(candidate, self_name)
            if attr is not None and _builds_dropout_module(self.ctx, cls.self_bindings.get(attr, ())):
                return candidate
        return None


def _builds_dropout_module(ctx: FileContext, bindings: Sequence[Binding]) -> bool:
    if not bindings:
        return False
    for binding in bindings:
        value = binding.value
        if type(value) is not cst.Call:
            return False
        api = ctx.api(value)
        if api is None or api.kind is not ApiKind.MODULE:
            return False
    return True
