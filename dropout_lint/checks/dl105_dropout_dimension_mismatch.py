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
                problem = _mismatch(step.type.dims, source)
                if source is not None and problem is not None:
                    yield ProjectFinding(
                        step.place,
                        f"`{step.name}` zeroes whole channels of {_EXPECTS.get(step.type.dims or 0, 'channel')} "
                        f"inputs, but it gets the output of {where(source)}, {problem}; use "
                        f"{_suggestion(source)}",
                        (source.place,),
                    )


def _mismatch(dims: Optional[int], source: Optional[Step]) -> Optional[str]:
    if source is None or source.type is None or dims is None:
        return None
    if source.kind in _FEATURES:
        return (
            "a feature vector without channels: channel dropout there drops whole rows or "
            "samples, or falls back to element-wise dropout with a deprecation warning"
        )
    if source.kind in ("conv", "batchnorm", "pool") and source.type.dims is not None and source.type.dims != dims:
        return f"a {source.type.dims}-d feature map, which it reads with another layout (torch warns for some ranks)"
    return None


def _suggestion(source: Step) -> str:
    if source.kind in _FEATURES or source.type is None or source.type.dims is None:
        return "`nn.Dropout` (element-wise) instead"
    return f"`nn.Dropout{source.type.dims}d` to match it"
