"""Small, pure helpers over libcst nodes.

A note on node types, here and in every module that reads trees: a concrete node class
is tested with ``type(node) is cst.Name``, not ``isinstance``. libcst's node classes are
ABCs, so an ``isinstance`` that fails runs ``ABCMeta.__instancecheck__``, a Python call;
on the hot paths that was about a tenth of the analysis time. libcst has no subclasses
of its concrete classes (``tests/test_engine.py`` checks), so the two agree; abstract
classes (``cst.BaseExpression``) and tuples of classes keep ``isinstance``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Optional, Union

import libcst as cst

from dropout_lint.records import attribute_reader

Statement = Union[cst.BaseStatement, cst.BaseSmallStatement]

_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "indent",
        "trailing_whitespace",
        "comma",
        "semicolon",
        "equal",
        "dot",
        "colon",
        "newline",
        "default_indent",
        "default_newline",
        "encoding",
        "has_trailing_newline",
        "operator",
        "asynchronous",
        "star",
    }
)

_FIELDS: dict[type, tuple[str, ...]] = {}
_IS_NODE: dict[type, bool] = {}
# Fields annotated with these types never hold a node.
_PLAIN_TYPES = (str, bool, int)


def _walked_fields(node_type: type) -> tuple[str, ...]:
    fields = _FIELDS.get(node_type)
    if fields is None:
        fields = tuple(
            f.name
            for f in dataclasses.fields(node_type)
            if f.name not in _SKIPPED_FIELDS
            and not f.name.startswith("whitespace")
            and f.type not in _PLAIN_TYPES
        )
        # Decorators run before the function or class they decorate.
        if "decorators" in fields:
            fields = ("decorators", *(f for f in fields if f != "decorators"))
        _FIELDS[node_type] = fields
    return fields


def is_node_type(kind: type) -> bool:
    """Whether ``kind`` is a libcst node class.

    isinstance() against libcst's abstract node classes goes through the ABC machinery;
    a per-type answer is many times faster on the hot path."""
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


def _field_reader(node_type: type) -> Optional[Callable[[cst.CSTNode], tuple[Any, ...]]]:
    """A function that reads a node type's walked fields in one call, or None for a type
    without any (remembered in ``_READERS``)."""
    names = _walked_fields(node_type)
    reader = attribute_reader(names) if names else None
    _READERS[node_type] = reader
    return reader


_READERS: dict[type, Optional[Callable[[cst.CSTNode], tuple[Any, ...]]]] = {}


def field_reader(node_type: type) -> Optional[Callable[[cst.CSTNode], tuple[Any, ...]]]:
    """A function that reads the fields of ``node_type`` that can hold code, in source
    order, as a tuple (a field holds a node, a sequence of nodes or something else);
    None for a type without any. ``children`` reads a node's children with it."""
    try:
        return _READERS[node_type]
    except KeyError:
        return _field_reader(node_type)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that can hold code, in source order."""
    kind = type(node)
    try:
        reader = _READERS[kind]
    except KeyError:
        reader = _field_reader(kind)
    out: list[cst.CSTNode] = []
    if reader is None:
        return out
    for value in reader(node):
        held = type(value)
        if held is list or held is tuple:
            out.extend(value)  # libcst's sequence fields hold nodes only
        elif is_node_type(held):
            out.append(value)
    return out


def push_children(stack: list[Any], node: cst.CSTNode) -> None:
    """Push the node's children that can hold code onto ``stack``, last child first,
    so that they come off it in source order. (For walks that keep their own stack:
    it builds no list per node, as ``children`` does.)"""
    kind = type(node)
    try:
        reader = _READERS[kind]
    except KeyError:
        reader = _field_reader(kind)
    if reader is None:
        return
    for value in reversed(reader(node)):
        held = type(value)
        if held is list or held is tuple:
            stack.extend(reversed(value))  # libcst's sequence fields hold nodes only
        elif held is not _NONE and is_node_type(held):
            stack.append(value)


_NONE = type(None)


def iter_nodes(root: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The root and every node below it that can hold code."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        push_children(stack, node)


def identifiers(expr: cst.CSTNode) -> Iterator[str]:
    """Every name and attribute name in an expression (``a.b(c)``: a, b, c)."""
    for node in iter_nodes(expr):
        if type(node) is cst.Name:
            yield node.value
        elif type(node) is cst.Attribute:
            yield node.attr.value


def target_names(target: cst.CSTNode) -> Iterator[str]:
    """The names an assignment or loop target binds (``a``, ``a, (b, *c)``)."""
    if type(target) is cst.Name:
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from target_names(target.value)


def dotted_name(expr: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a chain of attribute accesses on a name, else None."""
    parts: list[str] = []
    node: cst.BaseExpression = expr
    while type(node) is cst.Attribute:
        parts.append(node.attr.value)
        node = node.value
    if type(node) is not cst.Name:
        return None
    parts.append(node.value)
    return ".".join(reversed(parts))


def last_identifier(expr: cst.BaseExpression) -> Optional[str]:
    """The final identifier of a name or attribute (``args.keep_prob`` -> ``keep_prob``)."""
    if type(expr) is cst.Name:
        return expr.value
    if type(expr) is cst.Attribute:
        return expr.attr.value
    return None


def is_self_attribute(expr: cst.BaseExpression, self_name: str = "self") -> Optional[str]:
    """The attribute name for ``self.<name>``, else None."""
    if (
        type(expr) is cst.Attribute
        and type(expr.value) is cst.Name
        and expr.value.value == self_name
    ):
        return expr.attr.value
    return None


def block_statements(body: cst.BaseSuite) -> Sequence[Statement]:
    kind = type(body)
    if kind is cst.IndentedBlock or kind is cst.SimpleStatementSuite:
        return body.body
    return ()


# Statements that hold others. (Checks compare exact types: isinstance() against libcst's
# classes goes through the ABC machinery, and these helpers run on every statement.)
_LOOPS_AND_IFS = frozenset({cst.If, cst.While, cst.For})
_TRIES = frozenset({cst.Try, cst.TryStar})
_DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef})
_COMPOUND = frozenset({*_LOOPS_AND_IFS, *_TRIES, *_DEFINITIONS, cst.With, cst.Match, cst.SimpleStatementLine})


def child_blocks(stmt: Statement) -> Iterator[Sequence[Statement]]:
    """The statement lists nested directly in a compound statement."""
    kind = type(stmt)
    if kind not in _COMPOUND:
        return
    if kind is cst.SimpleStatementLine:
        yield stmt.body  # type: ignore[union-attr]
    elif kind in _LOOPS_AND_IFS:
        yield block_statements(stmt.body)  # type: ignore[union-attr]
        orelse = stmt.orelse  # type: ignore[union-attr]
        while orelse is not None:
            yield block_statements(orelse.body)
            orelse = orelse.orelse if type(orelse) is cst.If else None
    elif kind in _DEFINITIONS or kind is cst.With:
        yield block_statements(stmt.body)  # type: ignore[union-attr]
    elif kind in _TRIES:
        yield block_statements(stmt.body)  # type: ignore[union-attr]
        for handler in stmt.handlers:  # type: ignore[union-attr]
            yield block_statements(handler.body)
        if stmt.orelse is not None:  # type: ignore[union-attr]
            yield block_statements(stmt.orelse.body)  # type: ignore[union-attr]
        if stmt.finalbody is not None:  # type: ignore[union-attr]
            yield block_statements(stmt.finalbody.body)  # type: ignore[union-attr]
    else:  # Match
        for case in stmt.cases:  # type: ignore[union-attr]
            yield block_statements(case.body)


def iter_statements(
    body: Sequence[Statement], *, into_definitions: bool = False
) -> Iterator[Statement]:
    """Every statement in ``body`` and the blocks nested in it, in source order.

    Function and class bodies are entered only when ``into_definitions`` is set; the
    ``def``/``class`` statement itself is always yielded.
    """
    stack: list[Statement] = list(reversed(body))
    while stack:
        stmt = stack.pop()
        yield stmt
        kind = type(stmt)
        if kind not in _COMPOUND or (kind in _DEFINITIONS and not into_definitions):
            continue
        for block in reversed(list(child_blocks(stmt))):
            stack.extend(reversed(block))


def function_body(func: cst.FunctionDef) -> Sequence[Statement]:
    return block_statements(func.body)


def class_body(cls: cst.ClassDef) -> Sequence[Statement]:
    return block_statements(cls.body)


def assignment_targets(stmt: Statement) -> Iterator[tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    """(target, value) for each simple assignment target of a statement.

    Tuple unpacking yields each element with value None (not resolvable).
    """
    kind = type(stmt)
    if kind is cst.Assign:
        for target in stmt.targets:  # type: ignore[union-attr]
            yield from _unpack(target.target, stmt.value)  # type: ignore[union-attr]
    elif kind is cst.AnnAssign:
        yield from _unpack(stmt.target, stmt.value)  # type: ignore[union-attr]
    elif kind is cst.AugAssign:
        yield stmt.target, None  # type: ignore[union-attr]
    elif kind is cst.For:
        yield from _unpack(stmt.target, None)  # type: ignore[union-attr]
    elif kind is cst.With:
        for item in stmt.items:  # type: ignore[union-attr]
            if item.asname is not None:
                yield from _unpack(item.asname.name, None)


def _unpack(
    target: cst.BaseExpression, value: Optional[cst.BaseExpression]
) -> Iterator[tuple[cst.BaseExpression, Optional[cst.BaseExpression]]]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            inner = element.value
            if type(inner) is cst.StarredElement:
                inner = inner.value
            yield from _unpack(inner, None)
    else:
        yield target, value


def _plain(node: cst.CSTNode) -> Optional[str]:
    """The source of a name, a number or a chain of attributes without parentheses,
    read off the tree (rendering code costs a code-generation pass)."""
    kind = type(node)
    if kind is cst.Name or kind is cst.Integer or kind is cst.Float:
        return None if node.lpar else node.value  # type: ignore[attr-defined]
    if kind is cst.Attribute:
        value = _plain(node.value)  # type: ignore[attr-defined]
        dot = node.dot  # type: ignore[attr-defined]
        if value is None or node.lpar or not (_tight(dot.whitespace_before) and _tight(dot.whitespace_after)):  # type: ignore[attr-defined]
            return None
        return f"{value}.{node.attr.value}"  # type: ignore[attr-defined]
    return None


def _tight(whitespace: object) -> bool:
    return type(whitespace) is cst.SimpleWhitespace and whitespace.value == ""


def enclosing_tests(ancestors: Sequence[cst.CSTNode], node: cst.CSTNode) -> list[cst.BaseExpression]:
    """The tests of the ``if``/``while``/conditional expressions that decide whether
    ``node`` runs, innermost first, up to its function."""
    tests: list[cst.BaseExpression] = []
    child = node
    for ancestor in reversed(ancestors):
        if isinstance(ancestor, (cst.If, cst.While, cst.IfExp)) and ancestor.test is not child:
            tests.append(ancestor.test)
        elif isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            break
        child = ancestor
    return tests


def dotted_names(node: cst.CSTNode) -> set[str]:
    """Every name or attribute chain read in an expression (``self.p``, ``self``, ``x``)."""
    found: set[str] = set()
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (cst.Name, cst.Attribute)):
            dotted = dotted_name(current)
            if dotted is not None:
                found.add(dotted)
        push_children(stack, current)
    return found


def short_source(module: cst.Module, node: cst.CSTNode, limit: int = 60) -> str:
    """The node's source text on one line, shortened to ``limit`` characters."""
    text = _plain(node)
    if text is None:
        text = " ".join(module.code_for_node(node).split())
    if len(text) > limit:
        text = text[: limit - 3].rstrip() + "..."
    return text
