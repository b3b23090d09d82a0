"""The values every part of dropout-lint passes around: findings and their places."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Optional


class Severity(str, enum.Enum):
    """How sure a rule is that the code is wrong."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class FixSafety(str, enum.Enum):
    """Whether a fix keeps the program's behaviour (safe) or changes it (unsafe)."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Span:
    """A region of a file: lines 1-based, columns 0-based, end exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Fix:
    """A replacement of the finding's span, with its safety."""

    replacement: str
    safety: FixSafety
    description: str


@dataclass(frozen=True)
class Diagnostic:
    """One finding of one rule at one place."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    fix: Optional[Fix] = None
    runtime: Optional[str] = None  # what the tracer made of it: "confirmed", "not reproduced: ..."

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.span.line, self.span.column, self.code, self.message)
