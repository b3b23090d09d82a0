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
    """An edit that repairs a finding: ``span`` (which may be wider than the finding's,
    such as a whole statement) becomes ``replacement``."""

    replacement: str
    safety: FixSafety
    description: str
    span: Span


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
    cell: Optional[int] = None  # in a notebook: the cell (1-based), and ``span`` is relative to it
    file_span: Optional[Span] = None  # in a notebook: the span in the file's own text, its JSON

    @property
    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        return (self.path, self.cell or 0, self.span.line, self.span.column, self.code, self.message)

    @property
    def location(self) -> str:
        """``path:line:col`` (``path:cell 3:line:col`` in a notebook), columns 1-based."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.span.line}:{self.span.column + 1}"
