from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL302 as RULE
from dropout_lint.checks._modes import in_eval, through
from dropout_lint.project.modes import TrainInEvalMode, mode_violations, related_places
from dropout_lint.rule import ProjectCheck, ProjectFinding


class MissingTrainAfterEval(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for violation in mode_violations(self.index):
            if isinstance(violation, TrainInEvalMode):
                path = violation.model
                message = (
                    f"`{path}` is trained in eval mode{in_eval(violation.layers)}{through(violation.via)} "
                    f"since {violation.fact.why}; call `{path}.train()` first"
                )
                yield ProjectFinding(violation.place, message, related_places(violation))
