from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import find_arg, with_keyword
from dropout_lint.analysis.constants import literal_number
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.catalog import DL401 as RULE
from dropout_lint.context import Edit
from dropout_lint.rule import Check


class FunctionalDropoutAlwaysOn(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.api(node)
        if api is None or api.kind is not ApiKind.FUNCTIONAL or api.training_default is not True:
            return
        assert api.training is not None
        if not find_arg(node, api.training).missing:
            return
        rate = find_arg(node, api.rate).value
        if rate is not None and literal_number(rate) == 0:
            return  # never drops; DL405 says so
        cls, method = self.ctx.module_method()
        if cls is None or method is None or self.ctx.gated(node):
            return
        callee = self.ctx.text(node.func)
        self_name = self.ctx.facts.function(method).self_name or "self"
        flag = f"{self_name}.training"
        edit = None
        if not any(arg.star for arg in node.args):  # (`**kwargs` might hold `training`)
            value = cst.Attribute(value=cst.Name(self_name), attr=cst.Name("training"))
            edit = Edit(node, with_keyword(node, "training", value), f"Pass `training={flag}`")
        self.report(
            node,
            f"`{callee}` is called without `training=`, so it drops in eval mode too; pass `training={flag}`",
            edit,
        )
