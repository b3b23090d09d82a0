from __future__ import annotations

from collections.abc import Iterator

from typing import Optional

import libcst as cst

from dropout_lint.checks._rates import describe_rate
from dropout_lint.diagnostics import Severity
from dropout_lint.project.rates import describe, passed_rates
from dropout_lint.rule import Check, ProjectCheck, ProjectFinding, Rule

RULE = Rule(
    code="DL201",
    name="invalid-dropout-rate",
    severity=Severity.ERROR,
    summary="The dropout probability is outside [0, 1], equals 1, or is not a number.",
)


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
                f"`{self.ctx.text(expr)}` is passed to `{callee}` as `{keyword}`: the training "
                f"flag went where the drop probability goes (a bool `True` means `{keyword}=1`); "
                f"pass the rate and `training={self.ctx.text(expr)}`",
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
            self.report(
                expr,
                f"{rate} of `{callee}` drops every unit: the output is all zeros in training",
            )


class InvalidPassedRate(ProjectCheck):
    """The same rule for a rate passed to a class that hands it to a dropout layer."""

    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for passed in passed_rates(self.index):
            if passed.value < 0 or passed.value > 1:
                yield ProjectFinding(passed.argument.place, f"{describe(passed)}: outside [0, 1], torch rejects it")
            elif passed.value == 1:
                yield ProjectFinding(
                    passed.argument.place, f"{describe(passed)}: p=1 drops every unit, the output is all zeros in training"
                )
