"""Shared helpers of the placement rules (wording, and which dropouts count)."""

from __future__ import annotations

from typing import Optional

from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.place import LINE
from dropout_lint.project.placement import Step
from dropout_lint.project.rates import rate_value


def drops(index: ProjectIndex, step: Step) -> bool:
    """A dropout that may drop something: ``nn.Dropout(p=0.0)`` placeholders, and rates
    that are 0 for every instantiation seen, do not."""
    return step.is_dropout and rate(index, step) != 0


def rate(index: ProjectIndex, step: Step) -> Optional[float]:
    """The step's rate where the run shows a single one (see ``rate_value``)."""
    return None if step.rate is None else rate_value(index, step.rate)


def where(step: Step) -> str:
    """```nn.Dropout` (line 12)``, for messages that point at another layer (the step
    goes in the finding's ``related`` places)."""
    return f"`{step.name}` (line {LINE})"
