"""Read a call's argument the way the callee binds it: by keyword or by position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import libcst as cst

from dropout_lint.analysis.torch_api import Param


@dataclass(frozen=True)
class ArgLookup:
    """The argument bound to a parameter; ``unknown`` when ``*args``/``**kwargs`` may hold it."""

    arg: Optional[cst.Arg]
    unknown: bool = False

    @property
    def missing(self) -> bool:
        return self.arg is None and not self.unknown

    @property
    def value(self) -> Optional[cst.BaseExpression]:
        return self.arg.value if self.arg is not None else None


def find_arg(call: cst.Call, param: Param) -> ArgLookup:
    position = 0
    star_seen = False
    for arg in call.args:
        if arg.keyword is not None:
            if arg.keyword.value == param.keyword:
                return ArgLookup(arg)
            continue
        if arg.star == "*":
            star_seen = True
            continue
        if arg.star == "**":
            star_seen = True
            continue
        if not star_seen and param.position is not None and position == param.position:
            return ArgLookup(arg)
        position += 1
    return ArgLookup(None, unknown=star_seen)


def literal_bool(expr: Optional[cst.BaseExpression]) -> Optional[bool]:
    if isinstance(expr, cst.Name):
        if expr.value == "True":
            return True
        if expr.value == "False":
            return False
    return None
