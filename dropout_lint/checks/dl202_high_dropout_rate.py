from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from dropout_lint.catalog import DL202 as RULE
from dropout_lint.checks._rates import describe_rate, passed
from dropout_lint.project.rates import passed_rates
from dropout_lint.rule import Check, ProjectCheck, ProjectFinding

if TYPE_CHECKING:
    import libcst as cst


class HighDropoutRate(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        found = self.ctx.rate_argument(node)
        if found is None:
            return
        api, expr = found
        resolved = self.ctx.resolve_number(expr)
        if resolved is None:
            return
        limit = self.ctx.config.max_rate
        if limit < resolved.value < 1:
            self.report(
                expr,
                f"{describe_rate(api.rate.keyword, self.ctx.text(expr), resolved)} of `{self.ctx.text(node.func)}` is "
                f"above the maximum {limit:g}: the model may underfit",
            )


class HighPassedRate(ProjectCheck):
    """The same rule for a rate passed to a class that hands it to a dropout layer."""

    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        limit = self.config.max_rate
        for rate in passed_rates(self.index):
            if limit < rate.value < 1:
                yield ProjectFinding(
                    rate.argument.place,
                    f"{passed(rate)} is above the maximum {limit:g} for {rate.reaches}: the model may underfit",
                )
