from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import find_arg, literal_bool
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.catalog import DL404 as RULE
from dropout_lint.rule import Check


class DropoutForcedOn(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.api(node)
        if api is None or api.kind not in (ApiKind.FUNCTIONAL, ApiKind.ATEN) or api.training is None:
            return
        flag = find_arg(node, api.training)
        if flag.value is None or literal_bool(flag.value) is not True:
            return
        if self.ctx.gated(node):
            return  # `if self.training: F.dropout(x, p, training=True)` drops in training only
        self.report(
            flag.value,
            f"`{self.ctx.text(node.func)}` is given `{api.training.keyword}=True`, so it drops in eval mode "
            f"too; pass `{api.training.keyword}=self.training` unless it is Monte Carlo dropout",
        )
