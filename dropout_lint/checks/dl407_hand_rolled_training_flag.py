from __future__ import annotations

from collections.abc import Iterator

from dropout_lint.catalog import DL407 as RULE
from dropout_lint.rule import ProjectCheck, ProjectFinding


class HandRolledTrainingFlag(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        switched: set[str] = set()
        for file in self.index.files:
            switched |= file.switched
        for file in self.index.files:
            for use in file.flag_uses:
                if use.flag in switched:
                    continue  # something sets it outside the constructor: the code keeps it in step
                flag = f"self.{use.flag}" if use.kind == "attr" else use.flag
                if use.kind == "attr":
                    what = "which only the constructor sets, not `eval()`"
                else:
                    what = "a module constant that `eval()` does not change"
                yield ProjectFinding(use.place, f"`{use.text}` is switched by `{flag}`, {what}; use `self.training`")
