"""Resolve names to qualified names through a file's imports, without scope analysis.

libcst's ``QualifiedNameProvider`` runs a full scope analysis, which costs many times the
parse itself. Imports sit at known places, so one pass over the statements of a file gives
an alias table that resolves ``nn.Dropout``, ``F.dropout`` or ``D`` (for
``from torch.nn import Dropout as D``) to ``torch.nn.Dropout`` and friends.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import Statement, dotted_name


def _module_name(node: cst.BaseExpression) -> str:
    name = dotted_name(node)
    return name or ""


def _relative_prefix(relative: Sequence[cst.Dot]) -> str:
    return "." * len(relative)


@dataclass
class ImportTable:
    """Local name -> qualified name, for every import of a file (wherever it is)."""

    aliases: dict[str, str] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)

    def add(self, stmt: Statement) -> None:
        """Note an ``import`` or ``from ... import`` statement; others are ignored.
        (``structure.ModuleFacts`` gives it every statement of a file, in its class pass.)"""
        if type(stmt) is cst.Import:
            for alias in stmt.names:
                full = _module_name(alias.name)
                if alias.asname is not None and type(alias.asname.name) is cst.Name:
                    self.aliases[alias.asname.name.value] = full
                else:
                    head = full.split(".", 1)[0]
                    self.aliases[head] = head
        elif type(stmt) is cst.ImportFrom:
            base = _relative_prefix(stmt.relative)
            if stmt.module is not None:
                base += _module_name(stmt.module)
            if isinstance(stmt.names, cst.ImportStar):
                self.star_modules.append(base)
                return
            for alias in stmt.names:
                imported = _module_name(alias.name)
                local = imported
                if alias.asname is not None and type(alias.asname.name) is cst.Name:
                    local = alias.asname.name.value
                sep = "" if base.endswith(".") else "."
                self.aliases[local] = f"{base}{sep}{imported}" if base else imported

    def qualify(
        self, expr: cst.BaseExpression, known: Optional[Container[str]] = None
    ) -> Optional[str]:
        """The qualified name of a name or attribute chain, or None.

        A name bound by no import resolves through ``from X import *`` only when the
        result is in ``known`` (the names the caller cares about).
        """
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        target = self.aliases.get(head)
        if target is not None:
            return f"{target}.{rest}" if rest else target
        if known is not None:
            for star in self.star_modules:
                candidate = f"{star}.{dotted}"
                if candidate in known:
                    return candidate
        return None
