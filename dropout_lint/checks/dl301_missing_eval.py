from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL301 as RULE
from dropout_lint.checks._modes import in_training, through
from dropout_lint.project.modes import EvalInTrainMode, mode_violations, related_places
from dropout_lint.rule import ProjectCheck, ProjectFinding


class MissingEval(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for violation in mode_violations(self.index):
            if isinstance(violation, EvalInTrainMode):
                path = violation.model
                message = (
                    f"`{path}` is evaluated in training mode{in_training(violation.layers)}{through(violation.via)} "
                    f"since {violation.fact.why}; call `{path}.eval()` first"
                )
                yield ProjectFinding(violation.place, message, related_places(violation))
