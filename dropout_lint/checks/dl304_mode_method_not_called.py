from __future__ import annotations

import libcst as cst

from dropout_lint.catalog import DL304 as RULE
from dropout_lint.context import Edit
from dropout_lint.rule import Check


_MODE_METHODS = frozenset({"eval", "train"})


class ModeMethodNotCalled(Check):
    rule = RULE

    def visit_Expr(self, node: cst.Expr) -> None:
        value = node.value
        if type(value) is cst.Attribute and value.attr.value in _MODE_METHODS:
            shown = self.ctx.text(value)
            self.report(
                value,
                f"`{shown}` is not called, so the mode does not change; write `{shown}()`",
                Edit(value, cst.Call(func=value), f"Call `{shown}()`"),
            )
