from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.diagnostics import Severity
from dropout_lint.project.modes import iter_codes, mode_findings
from dropout_lint.rule import ProjectCheck, ProjectFinding, Rule

RULE = Rule(
    code="DL303",
    name="export-in-train-mode",
    severity=Severity.WARNING,
    summary="`torch.jit.trace`, `torch.export.export` or similar captures a model that is in training mode.",
)


class ExportInTrainMode(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for finding in iter_codes(mode_findings(self.index), RULE.code):
            yield ProjectFinding(finding.place, finding.message, finding.related)
