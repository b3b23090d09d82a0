"""What a rule is (its metadata) and the base class of the checks that implement rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Optional

import libcst as cst

from dropout_lint.diagnostics import FixSafety, Severity

if TYPE_CHECKING:
    from dropout_lint.context import FileContext


@dataclass(frozen=True)
class Rule:
    """A rule's identity: stable code, kebab-case name, severity and one-line summary."""

    code: str
    name: str
    severity: Severity
    summary: str
    fix_safety: Optional[FixSafety] = None

    @property
    def default_enabled(self) -> bool:
        """Info rules give advice and are off unless selected."""
        return self.severity is not Severity.INFO


class Check:
    """Implements one rule by visiting the syntax tree of one file.

    Subclasses set ``rule`` and define ``visit_<NodeType>`` / ``leave_<NodeType>`` methods,
    which the engine calls during a single traversal shared by all checks. A check is made
    per file, never prints, and reports through ``self.report``.
    """

    rule: ClassVar[Rule]

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def report(self, node: cst.CSTNode, message: str) -> None:
        self.ctx.report(self.rule, node, message)
