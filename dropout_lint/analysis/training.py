"""Whether code respects the train/eval mode: gating of dropout on ``self.training``.

A call counts as respecting the mode when its flag or rate mentions the mode, when it
sits under a test of the mode, or after an early exit on such a test. The words that
count as the mode are deliberately broad (``training``, ``is_train``, ``deterministic``,
``inference``...): the rules built on this stay silent unless the code shows no sign
of handling the mode at all.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from typing import Optional

import libcst as cst

from dropout_lint.analysis.constants import literal_number
from dropout_lint.analysis.structure import ClassInfo, FunctionInfo, ModuleFacts
from dropout_lint.analysis.syntax import (
    Statement,
    block_statements,
    dotted_name,
    enclosing_tests,
    function_body,
    is_self_attribute,
    iter_nodes,
    iter_statements,
    push_children,
)

_MODE_WORD = re.compile(r"train|determin|infer|eval|grad_enabled|mc_dropout", re.IGNORECASE)
_MODE_METHODS = frozenset({"train", "eval"})
_OPAQUE = frozenset({cst.Lambda, cst.SimpleString, cst.FormattedString})  # no mode read inside


def mentions_mode(expr: cst.CSTNode) -> bool:
    """Whether an expression reads something that names the train/eval mode."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Name:
            if _MODE_WORD.search(node.value):
                return True
        elif type(node) is cst.Attribute:
            if _MODE_WORD.search(node.attr.value):
                return True
            stack.append(node.value)
        elif type(node) in _OPAQUE:
            continue
        else:
            push_children(stack, node)
    return False


def _is_exit(stmt: cst.CSTNode) -> bool:
    if type(stmt) is cst.SimpleStatementLine:
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in stmt.body)
    return False


def _has_mode_exit(stmt: cst.CSTNode) -> bool:
    """``if not self.training: return x`` and the like."""
    if type(stmt) is not cst.If or not mentions_mode(stmt.test):
        return False
    body = stmt.body
    statements: Sequence[cst.CSTNode] = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else ()
    return any(_is_exit(s) or isinstance(s, (cst.Return, cst.Raise)) for s in statements)


def guarded_by_mode(ancestors: Sequence[cst.CSTNode], node: cst.CSTNode) -> bool:
    """Whether ``node`` (whose ancestors are given, outermost first) runs under a test
    of the mode within its function, or after an early exit on one."""
    if any(mentions_mode(test) for test in enclosing_tests(ancestors, node)):
        return True
    path = [*ancestors, node]
    for i in range(len(path) - 2, -1, -1):
        ancestor, child = path[i], path[i + 1]
        if type(ancestor) is cst.BooleanOperation:
            if ancestor.right is child and mentions_mode(ancestor.left):
                return True
        elif type(ancestor) is cst.FunctionDef:
            statement = path[i + 2] if i + 2 < len(path) else None
            return statement is not None and _after_mode_exit(ancestor, statement)
    return False


def boolean_operands(test: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    """The truth values a test combines with ``and``/``or``/``not``."""
    if type(test) is cst.BooleanOperation:
        yield from boolean_operands(test.left)
        yield from boolean_operands(test.right)
    elif type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        yield from boolean_operands(test.expression)
    else:
        yield test


def tests_caller_flag(test: cst.BaseExpression, function: FunctionInfo, ignored: set[str]) -> bool:
    """Whether a test reads, as a truth value, a flag the function received from its
    caller (deepchem's ``x, dropout_switch = inputs; if dropout_switch: ...``).

    Names in ``ignored`` (those the guarded call itself uses, such as its rate) do not
    count: ``if p: F.dropout(x, p)`` tests the rate, not the mode.
    """
    for operand in boolean_operands(test):
        if type(operand) is not cst.Name or operand.value in ignored:
            continue
        if operand.value in function.params or operand.value in function.bindings:
            return True
    return False


def _after_mode_exit(func: cst.FunctionDef, statement: cst.CSTNode) -> bool:
    for stmt in function_body(func):
        if stmt is statement:
            return False
        if _has_mode_exit(stmt):
            return True
    return False


class Gating(enum.Enum):
    GATED = "gated"
    UNGATED = "ungated"
    UNKNOWN = "unknown"


class GatingAnalysis:
    """Decides whether a dropout rate expression is switched off outside training."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    def rate(
        self,
        expr: cst.BaseExpression,
        function: Optional[FunctionInfo],
        cls: Optional[ClassInfo],
        depth: int = 0,
    ) -> Gating:
        if depth > 4:
            return Gating.UNKNOWN
        if mentions_mode(expr):
            return Gating.GATED
        number = literal_number(expr)
        if number is not None:
            return Gating.GATED if number == 0 else Gating.UNGATED
        if type(expr) is cst.Attribute:
            return self._attribute(expr, function, cls)
        if type(expr) is cst.Name:
            return self._name(expr.value, function, cls, depth)
        return Gating.UNKNOWN

    def _attribute(
        self, expr: cst.Attribute, function: Optional[FunctionInfo], cls: Optional[ClassInfo]
    ) -> Gating:
        root: cst.BaseExpression = expr
        while type(root) is cst.Attribute and type(root.value) is cst.Attribute:
            root = root.value
        self_name = function.self_name if function is not None else None
        attr = is_self_attribute(root, self_name) if self_name else None
        if attr is None or cls is None:
            return Gating.UNKNOWN
        for binding in cls.self_bindings.get(attr, ()):
            if binding.method is not None and binding.method.name.value in _MODE_METHODS:
                return Gating.GATED
            if any(mentions_mode(g) for g in binding.guards):
                return Gating.GATED
            if binding.value is not None and mentions_mode(binding.value):
                return Gating.GATED
        return Gating.UNGATED

    def _name(
        self, name: str, function: Optional[FunctionInfo], cls: Optional[ClassInfo], depth: int
    ) -> Gating:
        if function is None:
            return Gating.UNKNOWN
        if name in function.params:
            return Gating.UNKNOWN
        bindings = function.bindings.get(name)
        if not bindings:
            value = self.facts.constant(name)
            if value is not None and literal_number(value) is not None:
                return self.rate(value, None, None, depth + 1)
            return Gating.UNKNOWN
        results = []
        for binding in bindings:
            if any(mentions_mode(g) for g in binding.guards):
                return Gating.GATED
            if binding.value is None:
                return Gating.UNKNOWN
            results.append(self.rate(binding.value, function, cls, depth + 1))
        if Gating.GATED in results:
            return Gating.GATED
        if all(r is Gating.UNGATED for r in results):
            return Gating.UNGATED
        return Gating.UNKNOWN


_OPTIMISER_NAME = re.compile(r"optim|(^|_)opt($|_)", re.IGNORECASE)


def is_training_step(node: cst.CSTNode) -> bool:
    """``loss.backward()``, ``scaler.scale(loss).backward()``, ``accelerator.backward(loss)``
    or ``optimizer.step()``."""
    if type(node) is not cst.Call or type(node.func) is not cst.Attribute:
        return False
    method = node.func.attr.value
    if method == "backward":
        return True
    receiver = dotted_name(node.func.value)
    return method == "step" and receiver is not None and bool(_OPTIMISER_NAME.search(receiver))


_PHASE_WORD = re.compile(r"phase|stage|split|(^|_)mode($|_)", re.IGNORECASE)
_PHASE_STRING = re.compile(r"train|val|eval|test|dev|infer|predict", re.IGNORECASE)


def picks_phase(test: cst.BaseExpression) -> bool:
    """Whether a test picks between training and evaluation: ``if is_train:``,
    ``if phase == "train":``, ``if self.training:``."""
    if mentions_mode(test):
        return True
    for node in iter_nodes(test):
        if type(node) is cst.Name and _PHASE_WORD.search(node.value):
            return True
        if type(node) is cst.Attribute and _PHASE_WORD.search(node.attr.value):
            return True
        if type(node) is cst.SimpleString and _PHASE_STRING.search(node.value):
            return True
    return False


def _takes_step(node: cst.CSTNode) -> bool:
    """Whether ``node`` takes a training step that does not depend on a phase test: the
    loop of a ``for phase in ("train", "val")`` epoch also evaluates."""
    stack = [node]
    while stack:
        current = stack.pop()
        if is_training_step(current):
            return True
        if type(current) is cst.If and picks_phase(current.test):
            continue
        push_children(stack, current)
    return False


def training_loops(root: cst.CSTNode) -> set[int]:
    """The loops under ``root`` (by id) whose body takes a training step on every pass
    (not only when a phase test says so)."""
    out: set[int] = set()
    # Loops are statements: only the statements need looking at, not every expression.
    body: Sequence[Statement]
    if type(root) is cst.Module:
        body = root.body
    elif isinstance(root, cst.BaseSuite):
        body = block_statements(root)
    elif isinstance(root, (cst.BaseStatement, cst.BaseSmallStatement)):
        body = (root,)
    else:
        body = ()
    for node in iter_statements(body, into_definitions=True):
        if (type(node) is cst.For or type(node) is cst.While) and _takes_step(node.body):
            out.add(id(node))
    return out
