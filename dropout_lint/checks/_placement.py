"""Shared helpers of the placement rules (wording, and which dropouts count)."""

from __future__ import annotations

from dropout_lint.project.placement import Step
from dropout_lint.rule import LINE


def drops(step: Step) -> bool:
    """A dropout that may drop something: ``nn.Dropout(p=0.0)`` placeholders do not."""
    return step.is_dropout and not (step.rate is not None and step.rate.value == 0)


def where(step: Step) -> str:
    """```nn.Dropout` (line 12)``, for messages that point at another layer (the step
    goes in the finding's ``related`` places)."""
    return f"`{step.name}` (line {LINE})"
