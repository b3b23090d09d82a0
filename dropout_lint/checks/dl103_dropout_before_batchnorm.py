from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL103 as RULE
from dropout_lint.checks._placement import drops, where
from dropout_lint.project.index import step_lists
from dropout_lint.project.placement import consumers
from dropout_lint.rule import ProjectCheck, ProjectFinding


class DropoutBeforeBatchNorm(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for steps in step_lists(self.index):
            for index, step in enumerate(steps):
                if not drops(self.index, step):
                    continue
                for after in consumers(steps, index):
                    if after.kind == "batchnorm":
                        yield ProjectFinding(
                            step.place,
                            f"`{step.name}` feeds straight into batch norm {where(after)}: variance "
                            "shift at eval; move dropout after it",
                            (after.place,),
                        )
                        break
