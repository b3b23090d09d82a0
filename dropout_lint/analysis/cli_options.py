"""Command-line options a script declares with argparse, and the names that hold the
parsed result: ``parser.add_argument("--dropout", type=float, default=0.6)`` and
``args = parser.parse_args()`` make ``args.dropout`` 0.6 unless the user passes another."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import iter_statements


@dataclass(frozen=True)
class Option:
    flag: str  # "--dropout", as declared
    default: cst.BaseExpression


@dataclass(frozen=True)
class Options:
    parsed: frozenset[str] = frozenset()  # names assigned a parse_args() result
    declared: dict[str, Option] = field(default_factory=dict)  # by destination, declared once


def command_line_options(module: cst.Module) -> Options:
    """The options the file declares (each destination declared exactly once, with a
    default) and the names its parsed arguments are assigned to. Only statements are
    read (``args = parser.parse_args()``, ``parser.add_argument(...)``), not every
    expression, and the options only where some name holds parsed arguments."""
    parsed: set[str] = set()
    calls: list[cst.Call] = []
    for statement in iter_statements(module.body, into_definitions=True):
        if type(statement) is not cst.SimpleStatementLine:
            continue
        for small in statement.body:
            if type(small) is cst.Assign and _parses(small.value):
                for target in small.targets:
                    name = _first_name(target.target)
                    if name is not None:
                        parsed.add(name)
            elif type(small) is cst.Expr and type(small.value) is cst.Call:
                func = small.value.func
                if type(func) is cst.Attribute and func.attr.value == "add_argument":
                    calls.append(small.value)
    if not parsed:
        return Options()
    found: dict[str, list[Optional[Option]]] = {}
    for call in calls:
        declared = _declared(call)
        if declared is not None:
            found.setdefault(declared[0], []).append(declared[1])
    once = {dest: only[0] for dest, only in found.items() if len(only) == 1 and only[0] is not None}
    return Options(frozenset(parsed), once)


def _parses(value: cst.BaseExpression) -> bool:
    """``parser.parse_args()``, ``parser.parse_known_args()``, optionally subscripted."""
    if type(value) is cst.Subscript:
        value = value.value
    return (
        type(value) is cst.Call
        and type(value.func) is cst.Attribute
        and value.func.attr.value in ("parse_args", "parse_known_args")
    )


def _first_name(target: cst.BaseExpression) -> Optional[str]:
    if type(target) is cst.Name:
        return target.value
    if isinstance(target, (cst.Tuple, cst.List)) and target.elements and type(target.elements[0].value) is cst.Name:
        return target.elements[0].value.value  # args, unknown = parser.parse_known_args()
    return None


def _declared(call: cst.Call) -> Optional[tuple[str, Optional[Option]]]:
    """The destination of an ``add_argument`` call and its option (None without a
    default: the destination is then known not to be a number)."""
    flags: list[str] = []
    dest: Optional[str] = None
    default: Optional[cst.BaseExpression] = None
    for arg in call.args:
        value = arg.value
        text = value.evaluated_value if type(value) is cst.SimpleString else None
        if arg.keyword is None:
            if not isinstance(text, str):
                return None
            flags.append(text)
        elif arg.keyword.value == "dest":
            if not isinstance(text, str):
                return None
            dest = text
        elif arg.keyword.value == "default":
            default = value
    long = [flag for flag in flags if flag.startswith("--")]
    if dest is None:
        chosen = long[0] if long else (flags[0] if flags else None)
        if chosen is None:
            return None
        dest = chosen.lstrip("-").replace("-", "_")
    if not flags:
        return None
    return dest, Option(long[0] if long else flags[0], default) if default is not None else None
