from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from dropout_lint.catalog import DL105 as RULE
from dropout_lint.checks._placement import drops, where
from dropout_lint.project.index import step_lists
from dropout_lint.project.placement import Step, rank_source
from dropout_lint.rule import ProjectCheck, ProjectFinding


_EXPECTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_FEATURES = frozenset({"linear", "embedding", "rnn", "attention"})


class DropoutDimensionMismatch(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for steps in step_lists(self.index):
            for index, step in enumerate(steps):
                if step.kind != "channel_dropout" or not drops(self.index, step) or step.type is None:
                    continue
                source = rank_source(steps, index)
                message = _message(step, source)
                if source is not None and message is not None:
                    yield ProjectFinding(step.place, message, (source.place,))


def _message(step: Step, source: Optional[Step]) -> Optional[str]:
    dims = step.type.dims if step.type is not None else None
    if source is None or source.type is None or dims is None:
        return None
    if source.kind in _FEATURES:
        return (
            f"channel dropout on features without channels: `{step.name}` gets the output of "
            f"{where(source)}; use `nn.Dropout`"
        )
    if source.kind in ("conv", "batchnorm", "pool") and source.type.dims is not None and source.type.dims != dims:
        expects = _EXPECTS.get(dims, "(N, C, ...)")
        return (
            f"channel dropout of the wrong rank: `{step.name}` expects {expects} but {where(source)} "
            f"gives {source.type.dims}-d maps; use `nn.Dropout{source.type.dims}d`"
        )
    return None
