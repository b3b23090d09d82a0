"""A node of a file, named by its rank in the engine's traversal, and how a message
points at one (summaries, the mode facts and the findings of the cross-file rules name
places)."""

from __future__ import annotations

from dropout_lint.diagnostics import Span

LINE = "{line}"  # stands in a project finding's message for the line of a related place


class Place:
    """A node of a file, named by its rank in the engine's traversal.

    Summaries name many nodes and report few, so positions are not computed when the
    file is summarised: ``summary.resolve_places`` parses the few files that have findings
    again and places those nodes then.
    """

    __slots__ = ("path", "index", "line", "column", "end_line", "end_column")

    def __init__(self, path: str, index: int, line: int = 0, column: int = 0, end_line: int = 0, end_column: int = 0) -> None:
        self.path = path
        self.index = index
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column

    @property
    def span(self) -> Span:
        return Span(self.line, self.column, self.end_line, self.end_column)

    def set_span(self, span: Span) -> None:
        self.line, self.column, self.end_line, self.end_column = span.line, span.column, span.end_line, span.end_column

    def __reduce__(self) -> tuple[type[Place], tuple[str, int, int, int, int, int]]:
        return (Place, (self.path, self.index, self.line, self.column, self.end_line, self.end_column))

    def __repr__(self) -> str:
        return f"Place({self.path}#{self.index} {self.line}:{self.column})"
