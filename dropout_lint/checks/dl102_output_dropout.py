from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL102 as RULE
from dropout_lint.checks._placement import drops
from dropout_lint.project.index import class_steps
from dropout_lint.project.placement import output_steps, unroll
from dropout_lint.rule import ProjectCheck, ProjectFinding


_FIX = "end the model with its output layer"


class OutputDropout(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for located in self.index.root_classes:
            found = class_steps(self.index, located.cls)
            outputs = output_steps(*found) if found is not None else None
            if outputs and all(drops(self.index, step) for step in outputs):
                for step in outputs:
                    yield ProjectFinding(
                        step.place, f"dropout on the output: `{step.name}` makes the output of `{located.cls.name}`; {_FIX}"
                    )
        for _, model in self.index.root_sequentials():
            outputs = output_steps(*unroll(model.children))
            if outputs and all(drops(self.index, step) for step in outputs):
                yield ProjectFinding(
                    outputs[0].place,
                    f"dropout on the output: `{outputs[0].name}` is the last layer of `{model.name}`; {_FIX}",
                )
