"""The error every step of building and running a target raises."""

from __future__ import annotations


class TargetError(Exception):
    """The target cannot be built or run; ``stage`` says at which step."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage
