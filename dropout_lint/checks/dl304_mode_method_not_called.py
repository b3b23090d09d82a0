from __future__ import annotations

import libcst as cst

from dropout_lint.diagnostics import FixSafety, Severity
from dropout_lint.rule import Check, Edit, Rule

RULE = Rule(
    code="DL304",
    name="mode-method-not-called",
    severity=Severity.ERROR,
    summary="`model.eval` or `model.train` is written without parentheses, which does nothing.",
    fix_safety=FixSafety.SAFE,
)

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
