"""DL201 for a rate passed to a class that hands it to a dropout layer: a check over the
project index, apart from the check of the syntax tree (``dl201_invalid_dropout_rate``)
so that it runs over cached summaries without libcst."""

from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL201 as RULE
from dropout_lint.project.rates import describe, passed_rates
from dropout_lint.rule import ProjectCheck, ProjectFinding


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
