from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import find_arg, literal_bool
from dropout_lint.analysis.constants import literal_number
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.catalog import DL405 as RULE
from dropout_lint.rule import Check


class DropoutNeverActive(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.api(node)
        if api is None or api.kind not in (ApiKind.FUNCTIONAL, ApiKind.ATEN) or api.training is None:
            return
        callee = self.ctx.text(node.func)
        keyword = api.training.keyword
        flag = find_arg(node, api.training)
        if flag.value is not None and literal_bool(flag.value) is False:
            self.report(
                flag.value,
                f"`{callee}` is given `{keyword}=False`, so it never drops, even in training; "
                f"pass `{keyword}=self.training`",
            )
            return
        rate = find_arg(node, api.rate).value
        if rate is not None and literal_number(rate) == 0:
            self.report(rate, f"`{callee}` is given `{api.rate.keyword}=0`, so it never drops anything")
            return
        if flag.missing and api.training_default is False:
            self.report(
                node,
                f"`{callee}` is called without `training=`, whose default is `False`, so it never drops; "
                "pass `training=self.training`",
            )
