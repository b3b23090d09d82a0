"""Random draws that drop values or whole layers: hand-written dropout masks, LayerDrop,
stochastic depth.

A draw "drops" when a uniform draw is compared with something (``torch.rand(...) < p``)
or a Bernoulli draw is made, and the result masks a tensor (``x * mask``,
``masked_fill``, ``where``) or decides to skip a layer (``if ...: continue`` or
``return``). Random noise, sampling and augmentation (``randn``, ``argsort(rand)``,
flips) do not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Optional

import libcst as cst

from dropout_lint.analysis.syntax import (
    assignment_targets,
    function_body,
    identifiers,
    iter_nodes,
    iter_statements,
    last_identifier,
)
from dropout_lint.project.summary import Places, RandomDrop

_UNIFORM = frozenset(
    {
        "torch.rand",
        "torch.rand_like",
        "random.random",
        "random.uniform",
        "numpy.random.rand",
        "numpy.random.random",
        "numpy.random.uniform",
        "numpy.random.random_sample",
    }
)
# A Bernoulli *distribution* object is not a draw (its log_prob is a loss term).
_BERNOULLI = frozenset({"torch.bernoulli", "numpy.random.binomial"})
_UNIFORM_METHODS = frozenset({"uniform_"})
_BERNOULLI_METHODS = frozenset({"bernoulli", "bernoulli_"})
_MASKING_METHODS = frozenset({"mul", "mul_", "masked_fill", "masked_fill_", "where"})
_DROP_WORDS = re.compile(r"drop|skip|keep|surviv|stochastic|death", re.IGNORECASE)

Qualify = Callable[[cst.BaseExpression], Optional[str]]


def _draw_kind(node: cst.CSTNode, qualify: Qualify) -> Optional[str]:
    if type(node) is not cst.Call:
        return None
    func = node.func
    if type(func) is cst.Attribute and func.attr.value in _BERNOULLI_METHODS | _UNIFORM_METHODS:
        qualified = qualify(func)
        if qualified is None or not qualified.startswith("torch."):
            return "mask" if func.attr.value in _BERNOULLI_METHODS else "uniform"
    if isinstance(func, (cst.Name, cst.Attribute)):
        qualified = qualify(func)
        if qualified in _UNIFORM:
            return "uniform"
        if qualified in _BERNOULLI:
            return "mask"
    return None


class _Taint:
    """Which local names hold a uniform draw, and which a mask (a compared draw or a
    Bernoulli draw)."""

    def __init__(self, func: cst.FunctionDef, qualify: Qualify) -> None:
        self.qualify = qualify
        self.names: dict[str, str] = {}
        statements = [s for s in iter_statements(function_body(func)) if isinstance(s, (cst.Assign, cst.AnnAssign))]
        for _ in range(2):  # a second pass lets names defined later in a loop settle
            for stmt in statements:
                value = stmt.value
                if value is None:
                    continue
                kind = self.kind(value)
                if kind is None:
                    continue
                for target, _ in assignment_targets(stmt):
                    if type(target) is cst.Name:
                        self.names[target.value] = kind

    def kind(self, expr: cst.CSTNode) -> Optional[str]:
        """"mask", "uniform" or None for what an expression holds."""
        found: Optional[str] = None
        for node in iter_nodes(expr):
            if type(node) is cst.Comparison and self._holds_uniform(node):
                return "mask"
            draw = _draw_kind(node, self.qualify)
            if draw is not None:
                if draw == "mask":
                    return "mask"
                found = "uniform"
            elif type(node) is cst.Name and node.value in self.names:
                if self.names[node.value] == "mask":
                    return "mask"
                found = found or "uniform"
        return found

    def _holds_uniform(self, comparison: cst.Comparison) -> bool:
        for node in iter_nodes(comparison):
            if _draw_kind(node, self.qualify) == "uniform":
                return True
            if type(node) is cst.Name and self.names.get(node.value) == "uniform":
                return True
        return False

    def first_draw(self, expr: cst.CSTNode) -> Optional[cst.Call]:
        """The draw an expression's randomness comes from (followed through names)."""
        for node in iter_nodes(expr):
            if _draw_kind(node, self.qualify) is not None:
                assert type(node) is cst.Call
                return node
        return None


def _masks(node: cst.CSTNode, taint: _Taint) -> Iterator[cst.CSTNode]:
    """Operands that zero values by a mask: ``x * mask``, ``x.masked_fill(mask, 0)``,
    ``torch.where(mask, x, 0)``. (Replacing values by others, as swap noise does, is
    corruption, not dropout.)"""
    if type(node) is cst.BinaryOperation and isinstance(node.operator, (cst.Multiply, cst.Divide)):
        for side in (node.left, node.right):
            if taint.kind(side) == "mask":
                yield side
    elif type(node) is cst.Call:
        func = node.func
        name = func.attr.value if type(func) is cst.Attribute else getattr(func, "value", None)
        if name not in _MASKING_METHODS:
            return
        operands: list[cst.CSTNode] = [a.value for a in node.args]
        if type(func) is cst.Attribute:
            operands.append(func.value)
        if name in ("masked_fill", "masked_fill_", "where") and not any(_is_zero(a.value) for a in node.args):
            return
        for operand in operands:
            if taint.kind(operand) == "mask":
                yield operand


def _is_zero(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.Integer, cst.Float)):
        return expr.evaluated_value == 0
    if type(expr) is cst.Call and isinstance(expr.func, (cst.Name, cst.Attribute)):
        return (last_identifier(expr.func) or "").startswith("zeros")
    return False


def _skips(node: cst.CSTNode, taint: _Taint) -> bool:
    """``if <random decision against a drop rate>: continue`` (or ``return``): a layer
    skipped at random. The rate must be named like one (``self.layerdrop``,
    ``drop_prob``, ``survival_prob``): ``if torch.rand(1) < self.p: return hflip(img)``
    is a random augmentation, not dropout."""
    if type(node) is not cst.If or taint.kind(node.test) != "mask":
        return False
    if not any(_DROP_WORDS.search(name) for name in identifiers(node.test)):
        return False
    return any(isinstance(n, (cst.Continue, cst.Return)) for n in iter_nodes(node.body))


def random_drops(
    func: cst.FunctionDef,
    qualify: Qualify,
    places: Places,
    text: Callable[[cst.CSTNode], str],
) -> tuple[RandomDrop, ...]:
    """The random draws in a function that drop values or layers."""
    taint = _Taint(func, qualify)
    if not taint.names and not any(_draw_kind(n, qualify) for n in iter_nodes(func.body)):
        return ()
    found: dict[int, cst.Call] = {}
    for node in iter_nodes(func.body):
        if type(node) is cst.FunctionDef:
            continue
        sources: list[cst.CSTNode] = list(_masks(node, taint))
        if _skips(node, taint):
            assert type(node) is cst.If
            sources.append(node.test)
        for source in sources:
            draw = taint.first_draw(source) or _draw_behind_names(source, func, taint)
            if draw is not None:
                found.setdefault(id(draw), draw)
    return tuple(RandomDrop(places.of(draw), text(draw)) for draw in found.values())


def _draw_behind_names(expr: cst.CSTNode, func: cst.FunctionDef, taint: _Taint) -> Optional[cst.Call]:
    """The draw behind a tainted name: the first draw assigned to a tainted name."""
    names = {n.value for n in iter_nodes(expr) if type(n) is cst.Name and n.value in taint.names}
    pending = set(names)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        seen.add(name)
        for stmt in iter_statements(function_body(func)):
            if not isinstance(stmt, (cst.Assign, cst.AnnAssign)) or stmt.value is None:
                continue
            if not any(type(t) is cst.Name and t.value == name for t, _ in assignment_targets(stmt)):
                continue
            draw = taint.first_draw(stmt.value)
            if draw is not None:
                return draw
            pending |= {
                n.value
                for n in iter_nodes(stmt.value)
                if type(n) is cst.Name and n.value in taint.names and n.value not in seen
            }
    return None
