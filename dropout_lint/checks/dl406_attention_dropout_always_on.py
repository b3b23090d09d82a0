from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import find_arg
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.analysis.training import Gating
from dropout_lint.catalog import DL406 as RULE
from dropout_lint.context import Edit
from dropout_lint.rule import Check


class AttentionDropoutAlwaysOn(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.api(node)
        if api is None or api.kind is not ApiKind.ATTENTION:
            return
        rate = find_arg(node, api.rate).value
        if rate is None:
            return
        cls, method = self.ctx.module_method()
        if cls is None or method is None or self.ctx.gated(node):
            return
        scope = self.ctx.scope()
        if self.ctx.gating.rate(rate, scope.function, scope.cls) is not Gating.UNGATED:
            return
        shown = self.ctx.text(rate)
        keyword = api.rate.keyword
        self_name = self.ctx.facts.function(method).self_name or "self"
        self.report(
            rate,
            f"`{keyword}={shown}` of `{self.ctx.text(node.func)}` is not gated on "
            f"`{self_name}.training`, so it drops in eval mode too",
            Edit(rate, _gated(rate, self_name), f"Gate it: `{shown} if {self_name}.training else 0.0`"),
        )


def _gated(rate: cst.BaseExpression, self_name: str) -> cst.IfExp:
    """``rate if self.training else 0.0``, with parentheses where the rate needs them."""
    if isinstance(rate, (cst.IfExp, cst.Lambda, cst.NamedExpr, cst.Yield)) and not rate.lpar:
        rate = rate.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return cst.IfExp(
        test=cst.Attribute(value=cst.Name(self_name), attr=cst.Name("training")),
        body=rate,
        orelse=cst.Float("0.0"),
    )
