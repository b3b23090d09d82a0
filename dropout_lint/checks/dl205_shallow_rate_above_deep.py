from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.checks._placement import drops, where
from dropout_lint.diagnostics import Severity
from dropout_lint.project.index import step_lists
from dropout_lint.rule import ProjectCheck, ProjectFinding, Rule

RULE = Rule(
    code="DL205",
    name="shallow-rate-above-deep",
    severity=Severity.INFO,
    summary="Within one model, an earlier dropout has a higher rate than a later one.",
)


class ShallowRateAboveDeep(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for steps in step_lists(self.index):
            rated = [
                step
                for step in steps
                if drops(step) and not step.conditional and step.rate is not None and step.rate.value is not None
            ]
            for i, step in enumerate(rated):
                assert step.rate is not None and step.rate.value is not None
                later = next(
                    (s for s in rated[i + 1 :] if s.rate is not None and s.rate.value is not None and s.rate.value < step.rate.value),
                    None,
                )
                if later is not None and later.rate is not None:
                    yield ProjectFinding(
                        step.place,
                        f"`{step.name}` drops with p={step.rate.value:g}, more than the deeper "
                        f"{where(later)} with p={later.rate.value:g}: shallow layers usually want a "
                        "lower rate than deep ones; consider raising the rate with depth",
                        (later.place,),
                    )
