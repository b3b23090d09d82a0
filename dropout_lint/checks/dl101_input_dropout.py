from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL101 as RULE
from dropout_lint.checks._placement import drops
from dropout_lint.project.index import class_steps
from dropout_lint.project.placement import first_on_input, unroll
from dropout_lint.rule import ProjectCheck, ProjectFinding


_FIX = "put dropout after hidden layers"


class InputDropout(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for located in self.index.root_classes:
            found = class_steps(self.index, located.cls)
            step = first_on_input(found[0]) if found is not None else None
            if step is not None and drops(self.index, step):
                yield ProjectFinding(
                    step.place,
                    f"dropout on the raw input: `{step.name}` is the first layer `{located.cls.name}` applies; {_FIX}",
                )
        for _, model in self.index.root_sequentials():
            step = first_on_input(unroll(model.children)[0])
            if step is not None and drops(self.index, step):
                yield ProjectFinding(
                    step.place, f"dropout on the raw input: `{step.name}` is the first layer of `{model.name}`; {_FIX}"
                )
