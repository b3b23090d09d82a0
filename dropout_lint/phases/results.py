"""What the phases hand on: a file's analysis (the first phase's result, which workers
send back and the cache keeps) and its final result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from dropout_lint.diagnostics import Diagnostic
from dropout_lint.noqa import Noqa

if TYPE_CHECKING:
    from dropout_lint.notebook import NotebookSource  # imported when a notebook is linted
    from dropout_lint.project.summary import PackedSummary


@dataclass(frozen=True)
class FileResult:
    """The findings of one file, and its lines when a reporter may need to show them."""

    path: str
    diagnostics: tuple[Diagnostic, ...]
    lines: tuple[str, ...] = ()
    cells: tuple[tuple[int, tuple[str, ...]], ...] = ()  # a notebook's cells: (number, lines)

    def source_line(self, diagnostic: Diagnostic) -> Optional[str]:
        """The line a finding starts on, from the file or its notebook cell."""
        lines = self.lines
        if diagnostic.cell is not None:
            lines = next((cell for number, cell in self.cells if number == diagnostic.cell), ())
        line = diagnostic.span.line
        return lines[line - 1] if 1 <= line <= len(lines) else None


@dataclass(frozen=True)
class FileAnalysis:
    """What the first phase learns about one file (picklable, sent back by workers)."""

    path: str  # as shown in reports
    enabled: frozenset[str]
    diagnostics: tuple[Diagnostic, ...]  # this file's own findings, before noqa
    noqa: tuple[Noqa, ...] = ()
    summary: Optional[PackedSummary] = None
    lines: tuple[str, ...] = ()
    real_path: Optional[str] = None  # where to read the lines again if needed
    notebook: Optional[NotebookSource] = None  # a notebook's cells, joined into the text linted
    cacheable: bool = True  # False when the result depends on the moment (a time bound hit)
