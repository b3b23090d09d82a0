from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL303 as RULE
from dropout_lint.checks._modes import in_training
from dropout_lint.project import modes
from dropout_lint.rule import ProjectCheck, ProjectFinding


class ExportInTrainMode(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for violation in modes.mode_violations(self.index):
            if isinstance(violation, modes.ExportInTrainMode):
                path = violation.model
                message = (
                    f"`{violation.api}` exports `{path}` in training mode{in_training(violation.layers)} "
                    f"since {violation.fact.why}; call `{path}.eval()` first"
                )
                yield ProjectFinding(violation.place, message, modes.related_places(violation))
