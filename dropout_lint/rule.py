"""The base classes of the checks that implement rules (``catalog`` says what a rule is)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Optional

from dropout_lint.catalog import Rule
from dropout_lint.project.place import LINE

if TYPE_CHECKING:
    import libcst as cst

    from dropout_lint.config import Config
    from dropout_lint.context import Edit, FileContext
    from dropout_lint.project.index import ProjectIndex
    from dropout_lint.project.place import Place


class Check:
    """Implements one rule by visiting the syntax tree of one file.

    Subclasses set ``rule`` and define ``visit_<NodeType>`` / ``leave_<NodeType>`` methods,
    which the engine calls during a single traversal shared by all checks. A check is made
    per file, never prints, and reports through ``self.report``.
    """

    rule: ClassVar[Rule]

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def report(self, node: cst.CSTNode, message: str, fix: Optional[Edit] = None) -> None:
        """Report a finding at ``node``; ``fix`` only for rules that declare a fix safety."""
        if fix is not None:
            fix = replace(fix, indent=self.ctx.indentation()) if self.rule.fix_safety is not None else None
        self.ctx.report(self.rule, node, message, fix)


@dataclass(frozen=True)
class ProjectFinding:
    """A finding of a cross-file rule, at a place of some file of the run.

    Places get their positions only after every rule has run, so a message that points
    at other places writes ``LINE`` for each, in the order of ``related``.
    """

    place: Place
    message: str
    related: tuple[Place, ...] = ()

    def text(self, line_of: Optional[Callable[[Place], str]] = None) -> str:
        """The message with the related places' lines filled in (``line_of`` says how a
        place's line reads: a notebook's is ``5 of cell 3``)."""
        parts = self.message.split(LINE)
        out = [parts[0]]
        for place, rest in zip(self.related, parts[1:]):
            out.append((line_of(place) if line_of is not None else str(place.line)) + rest)
        return "".join(out)


class ProjectCheck:
    """Implements one rule over the project index, after every file is summarised."""

    rule: ClassVar[Rule]

    def __init__(self, index: ProjectIndex, config: Config) -> None:
        self.index = index
        self.config = config

    def run(self) -> Iterator[ProjectFinding]:
        raise NotImplementedError
