from __future__ import annotations

import re

import libcst as cst

from dropout_lint.analysis.syntax import last_identifier
from dropout_lint.catalog import DL203 as RULE
from dropout_lint.rule import Check


_KEEP = re.compile(r"(^|_)(keep|retain)_?(prob|probability|rate|ratio|p)($|_)", re.IGNORECASE)


class KeepProbAsRate(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        found = self.ctx.rate_argument(node)
        if found is None:
            return
        api, expr = found
        name = last_identifier(expr)
        if name is None or not _KEEP.search(name):
            return
        keyword = api.rate.keyword
        shown = self.ctx.text(expr)
        self.report(
            expr,
            f"the keep probability `{shown}` is passed as the drop probability `{keyword}` of "
            f"`{self.ctx.text(node.func)}`; pass `{keyword}=1 - {shown}`",
        )
