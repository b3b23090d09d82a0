from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL205 as RULE
from dropout_lint.checks._placement import rate, where
from dropout_lint.project.index import step_lists
from dropout_lint.project.placement import Step
from dropout_lint.rule import ProjectCheck, ProjectFinding


class ShallowRateAboveDeep(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for steps in step_lists(self.index):
            rated: list[tuple[Step, float]] = []
            for step in steps:
                value = rate(self.index, step)
                if step.is_dropout and not step.conditional and value is not None and value != 0:
                    rated.append((step, value))
            for i, (step, value) in enumerate(rated):
                later = next(((s, v) for s, v in rated[i + 1 :] if v < value), None)
                if later is not None:
                    yield ProjectFinding(
                        step.place,
                        f"`{step.name}` drops with p={value:g}, more than the deeper "
                        f"{where(later[0])} with p={later[1]:g}; rates usually rise with depth",
                        (later[0].place,),
                    )
