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
                where = "only its constructor sets it" if use.kind == "attr" else "it is a constant of the module"
                yield ProjectFinding(
                    use.place,
                    f"`{use.text}` is switched by `{flag}`, but {where}: `model.train()` and "
                    f"`model.eval()` do not change it, so dropout stays as it was set; use "
                    "`self.training`, which they do set",
                )
