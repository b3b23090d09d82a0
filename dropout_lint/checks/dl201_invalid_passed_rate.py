"""DL201 for a rate passed to a class that hands it to a dropout layer: a check over the
project index, apart from the check of the syntax tree (``dl201_invalid_dropout_rate``)
so that it runs over cached summaries without libcst."""

from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL201 as RULE
from dropout_lint.checks._rates import passed
from dropout_lint.project.rates import passed_rates
from dropout_lint.rule import ProjectCheck, ProjectFinding


class InvalidPassedRate(ProjectCheck):
    """The same rule for a rate passed to a class that hands it to a dropout layer."""

    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for rate in passed_rates(self.index):
            if rate.value < 0 or rate.value > 1:
                yield ProjectFinding(
                    rate.argument.place, f"{passed(rate)} is outside [0, 1] for {rate.reaches}: torch rejects it"
                )
            elif rate.value == 1:
                yield ProjectFinding(
                    rate.argument.place, f"{passed(rate)} makes {rate.reaches} drop every unit: the output is all zeros"
                )
