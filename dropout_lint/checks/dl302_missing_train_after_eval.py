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
                    f"{through(violation.via, 'trains')}`{path}` is in eval mode here, so this training "
                    f"step {in_eval(violation.layers)}: {violation.fact.why}, and nothing calls "
                    f"`{path}.train()` before it; call `{path}.train()` at the start of each epoch"
                )
                yield ProjectFinding(violation.place, message, related_places(violation))
