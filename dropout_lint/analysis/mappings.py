"""What a dict of settings holds, where the code shows every key of it.

``GPTModel({"drop_rate": 0.0, ...})``, ``GPTModel(dict(drop_rate=0.0))`` or
``GPTModel(BASE_CONFIG)`` with ``BASE_CONFIG`` bound to such a dict in the same scope give
the model's ``cfg["drop_rate"]`` a value the cross-file rules can follow. The changes the
scope makes to a name count wherever they are (order is not followed): an
``update`` whose keys are all known leaves the other keys as they are, an item
assignment sets its key, and any other change (``pop``, ``setdefault``, an ``update``
with unknown keys, a non-literal key) makes the whole dict unknown. A key set to two
different values keeps the key with an unknown value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import Statement, iter_nodes, iter_statements

# Key -> the number it holds, None for a value that is not a known number.
Entries = dict[str, Optional[float]]

_MAX_DEPTH = 4
# Methods of a dict that do not change it.
_READS = frozenset({"get", "keys", "values", "items", "copy", "__getitem__", "__contains__", "__len__"})


@dataclass(frozen=True)
class NameScope:
    """Where a name is looked up: the statements that bind and change it, and how to read
    them."""

    bodies: Sequence[Sequence[Statement]]  # the scope's statements (a function's, the module's)
    bindings: Callable[[str], Optional[Sequence[Optional[cst.BaseExpression]]]]  # None: not bound here
    number: Callable[[cst.BaseExpression], Optional[float]]


def known_entries(expr: cst.BaseExpression, scope: NameScope, depth: int = 0) -> Optional[Entries]:
    """Every key the dict ``expr`` holds, with its value; None where some key is not known."""
    if depth > _MAX_DEPTH:
        return None
    if type(expr) is cst.Dict:
        return _literal(expr, scope, depth)
    if type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "dict":
        return _dict_call(expr, scope, depth)
    if type(expr) is cst.Name:
        return _named(expr.value, scope, depth)
    return None


def _literal(expr: cst.Dict, scope: NameScope, depth: int) -> Optional[Entries]:
    out: Entries = {}
    for element in expr.elements:
        if type(element) is cst.StarredDictElement:
            spread = known_entries(element.value, scope, depth + 1)
            if spread is None:
                return None
            out.update(spread)
            continue
        key = element.key if type(element) is cst.DictElement else None
        if type(key) is not cst.SimpleString or not isinstance(key.evaluated_value, str):
            return None
        out[key.evaluated_value] = scope.number(element.value)
    return out


def _dict_call(call: cst.Call, scope: NameScope, depth: int) -> Optional[Entries]:
    out: Entries = {}
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is None:
            base = known_entries(arg.value, scope, depth + 1)
            if base is None:
                return None
            out.update(base)
        else:
            out[arg.keyword.value] = scope.number(arg.value)
    return out


def _named(name: str, scope: NameScope, depth: int) -> Optional[Entries]:
    values = scope.bindings(name)
    if not values:
        return None
    found: list[Entries] = []
    for value in values:
        entries = None if value is None else known_entries(value, scope, depth + 1)
        if entries is None:
            return None
        found.append(entries)
    out = _merge(found)
    if out is None:
        return None
    for body in scope.bodies:
        for stmt in iter_statements(body):
            if not _change(stmt, name, out, scope, depth):
                return None
    return out


def _merge(variants: Sequence[Entries]) -> Optional[Entries]:
    """The dict one of ``variants`` is: a key in all of them with one value keeps it; a
    key with several values, or missing from some, holds a value not known."""
    if not variants:
        return None
    keys = set().union(*variants)
    return {
        key: _same(variant[key] for variant in variants) if all(key in variant for variant in variants) else None
        for key in keys
    }


def _same(values: Iterable[Optional[float]]) -> Optional[float]:
    found = set(values)
    return next(iter(found)) if len(found) == 1 else None


def _set(entries: Entries, key: str, value: Optional[float]) -> None:
    """A key set somewhere in the scope: it holds its old value or this one."""
    entries[key] = value if key not in entries or entries[key] == value else None


def _change(stmt: Statement, name: str, entries: Entries, scope: NameScope, depth: int) -> bool:
    """Apply what the statement does to the dict named ``name``; False where the dict
    becomes unknown."""
    if isinstance(stmt, (cst.BaseCompoundStatement, cst.SimpleStatementLine)):
        return True  # its statements come on their own; a header changes no dict
    if type(stmt) is cst.Assign:
        for target in stmt.targets:
            if not _set_item(entries, target.target, name, scope.number(stmt.value)):
                return False
    elif type(stmt) is cst.AnnAssign:
        if not _set_item(entries, stmt.target, name, None if stmt.value is None else scope.number(stmt.value)):
            return False
    elif type(stmt) is cst.AugAssign:
        if _is_name(stmt.target, name):
            return type(stmt.operator) is cst.BitOrAssign and _update(entries, [cst.Arg(stmt.value)], scope, depth)
        if not _set_item(entries, stmt.target, name, None):
            return False
    if type(stmt) is cst.Del and any(
        type(node) is cst.Subscript and _is_name(node.value, name) for node in iter_nodes(stmt.target)
    ):
        return False
    for node in iter_nodes(stmt):
        if type(node) is not cst.Call or type(node.func) is not cst.Attribute or not _is_name(node.func.value, name):
            continue
        method = node.func.attr.value
        if method == "update":
            if not _update(entries, node.args, scope, depth):
                return False
        elif method not in _READS:
            return False
    return True


def _set_item(entries: Entries, target: cst.BaseExpression, name: str, value: Optional[float]) -> bool:
    """``name["key"] = value``; False for an item of a key not written out."""
    if type(target) is not cst.Subscript or not _is_name(target.value, name):
        return True
    key = _key(target)
    if key is None:
        return False
    _set(entries, key, value)
    return True


def _update(entries: Entries, args: Sequence[cst.Arg], scope: NameScope, depth: int) -> bool:
    for arg in args:
        if arg.star:
            return False
        if arg.keyword is not None:
            _set(entries, arg.keyword.value, scope.number(arg.value))
            continue
        variants = _variants(arg.value, scope, depth)
        if variants is None:
            return False
        for key in set().union(*variants):
            values = [variant.get(key) for variant in variants]
            _set(entries, key, _same(values) if all(key in variant for variant in variants) else None)
    return True


def _variants(expr: cst.BaseExpression, scope: NameScope, depth: int) -> Optional[list[Entries]]:
    """The dicts ``expr`` may be: one known dict, or an entry of a dict of known dicts
    (``model_configs[CHOOSE_MODEL]``)."""
    entries = known_entries(expr, scope, depth + 1)
    if entries is not None:
        return [entries]
    if type(expr) is not cst.Subscript or type(expr.value) is not cst.Name:
        return None
    values = scope.bindings(expr.value.value)
    if not values or len(values) != 1 or type(values[0]) is not cst.Dict:
        return None
    out = []
    for element in values[0].elements:
        inner = known_entries(element.value, scope, depth + 1) if type(element) is cst.DictElement else None
        if inner is None:
            return None
        out.append(inner)
    return out or None


def _key(target: cst.Subscript) -> Optional[str]:
    if len(target.slice) != 1 or type(target.slice[0].slice) is not cst.Index:
        return None
    key = target.slice[0].slice.value
    return key.evaluated_value if type(key) is cst.SimpleString and isinstance(key.evaluated_value, str) else None


def _is_name(node: Optional[cst.CSTNode], name: str) -> bool:
    return type(node) is cst.Name and node.value == name
