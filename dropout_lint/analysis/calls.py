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
    if type(expr) is cst.Name:
        if expr.value == "True":
            return True
        if expr.value == "False":
            return False
    return None


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value`` added as its last argument, in the call's style: a
    call laid out one argument per line with a trailing comma keeps that layout."""
    new = cst.Arg(
        value=value,
        keyword=cst.Name(keyword),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if type(last.comma) is cst.Comma:
        # `f(\n    a,\n    b,\n)`: the new argument goes on a line of its own, indented
        # like the others, and takes the trailing comma; comments stay where they were.
        after = last.comma.whitespace_after
        before = args[-2].comma.whitespace_after if len(args) > 1 and type(args[-2].comma) is cst.Comma else None
        if type(after) is cst.ParenthesizedWhitespace and type(before) is cst.ParenthesizedWhitespace:
            between = after.with_changes(indent=before.indent, last_line=before.last_line)
            args[-1] = last.with_changes(comma=last.comma.with_changes(whitespace_after=between))
            closing = cst.ParenthesizedWhitespace(indent=after.indent, last_line=after.last_line)
            new = new.with_changes(comma=cst.Comma(whitespace_after=closing))
        else:
            args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            new = new.with_changes(comma=last.comma)
    return call.with_changes(args=[*args, new])
