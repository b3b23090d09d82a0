"""Random draws that drop values or whole layers: hand-written dropout masks, LayerDrop,
stochastic depth.

A draw "drops" when a uniform draw is compared with something (``torch.rand(...) < p``)
or a Bernoulli draw is made, and the result masks a tensor (``x * mask``,
``masked_fill``, ``where``), selects what is kept (``edge_index[:, mask]``, a
comprehension filtered by it) or decides to skip a layer (``if ...: continue`` or
``return``, or a layer applied only on the random branch). Random noise, sampling and
augmentation (``randn``, ``argsort(rand)``, flips) do not.
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
    target_names,
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
        self.sources: dict[str, cst.BaseExpression] = {}  # what a tainted name was made from
        statements = [s for s in iter_statements(function_body(func)) if isinstance(s, (cst.Assign, cst.AnnAssign, cst.For))]
        for _ in range(2):  # a second pass lets names defined later in a loop settle
            for stmt in statements:
                if isinstance(stmt, cst.For):
                    # The elements of a mask are its decisions: `for layer, keep in zip(layers, mask)`.
                    if self.kind(stmt.iter) == "mask":
                        for name in target_names(stmt.target):
                            self.names[name] = "mask"
                            self.sources[name] = stmt.iter
                    continue
                value = stmt.value
                if value is None:
                    continue
                kind = self.kind(value)
                if kind is None:
                    continue
                for target, _ in assignment_targets(stmt):
                    if type(target) is cst.Name:
                        self.names[target.value] = kind
                        self.sources[target.value] = value

    def words(self, expr: cst.CSTNode) -> set[str]:
        """The identifiers of an expression and of what its tainted names were made from
        (`keep` of `keep = torch.rand(n) >= self.layer_drop` brings `layer_drop`)."""
        out: set[str] = set()
        pending: list[cst.CSTNode] = [expr]
        seen: set[str] = set()
        while pending:
            for name in identifiers(pending.pop()):
                out.add(name)
                source = self.sources.get(name)
                if source is not None and name not in seen:
                    seen.add(name)
                    pending.append(source)
        return out

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
    """``if <random decision against a drop rate>: continue`` (or ``return``), or
    ``if <random decision>: x = layer(x)``: a layer skipped at random. The rate must be
    named like one (``self.layerdrop``, ``drop_prob``, ``survival_prob``), in the test or
    in the draw behind it: ``if torch.rand(1) < self.p: return hflip(img)`` is a random
    augmentation, not dropout."""
    if type(node) is not cst.If or taint.kind(node.test) != "mask":
        return False
    if not any(_DROP_WORDS.search(name) for name in taint.words(node.test)):
        return False
    return any(isinstance(n, (cst.Continue, cst.Return, cst.Call)) for n in iter_nodes(node.body))


def _selections(node: cst.CSTNode, taint: _Taint) -> Iterator[cst.CSTNode]:
    """Masks that choose which elements are kept: boolean indexing (``edge_index[:, mask]``)
    and a comprehension filtering by one (``[l for l, d in zip(layers, mask) if not d]``)."""
    if type(node) is cst.Subscript:
        for element in node.slice:
            index = element.slice
            if type(index) is cst.Index and taint.kind(index.value) == "mask":
                yield index.value
    elif isinstance(node, (cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)):
        comp: Optional[cst.CompFor] = node.for_in
        while comp is not None:
            if comp.ifs and taint.kind(comp.iter) == "mask":
                yield comp.iter
            comp = comp.inner_for_in


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
        sources: list[cst.CSTNode] = [*_masks(node, taint), *_selections(node, taint)]
        if _skips(node, taint):
            assert type(node) is cst.If
            sources.append(node.test)
        for source in sources:
            draw = taint.first_draw(source) or _draw_behind_names(source, taint)
            if draw is not None:
                found.setdefault(id(draw), draw)
    return tuple(RandomDrop(places.of(draw), text(draw)) for draw in found.values())


def _draw_behind_names(expr: cst.CSTNode, taint: _Taint) -> Optional[cst.Call]:
    """The draw behind a tainted name: the first draw in what it was made from,
    followed through the names that made it."""
    pending = [n.value for n in iter_nodes(expr) if type(n) is cst.Name and n.value in taint.names]
    seen: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.add(name)
        source = taint.sources.get(name)
        if source is None:
            continue
        draw = taint.first_draw(source)
        if draw is not None:
            return draw
        pending.extend(n.value for n in iter_nodes(source) if type(n) is cst.Name and n.value in taint.names)
    return None
