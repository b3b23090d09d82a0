"""Dropout rates passed from one class to another: ``Block(drop=0.9)`` reaches the
``nn.Dropout(drop)`` in ``Block.__init__``, and a parameter's default decides the rate
only where no instantiation gives the parameter another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

from dropout_lint.analysis.origins import chosen_by_caller
from dropout_lint.project.index import ProjectIndex, bind
from dropout_lint.project.summary import Argument, ClassSummary, Instantiation, Rate

# The values the instantiations seen give each rate parameter: (class, parameter) to
# the values, None for one the run cannot know.
GivenRates = dict[tuple[str, str], set[Optional[float]]]


@dataclass(frozen=True)
class PassedRate:
    argument: Argument
    value: float
    callee: str  # the class built, as named
    reaches: str  # the dropout layer the value ends up in


def passed_rates(index: ProjectIndex) -> list[PassedRate]:
    """Every known number passed to a class parameter that becomes a dropout rate
    (found once per run, and shared by the rules that read them)."""
    return index.shared("passed_rates", lambda: list(_passed_rates(index)))


def _passed_rates(index: ProjectIndex) -> Iterator[PassedRate]:
    known: dict[str, dict[str, str]] = {}  # the rate parameters of each class built
    for _, inst, located in index.instantiations():
        if located is None or inst.star or not index.may_pass_rates(located):
            continue
        params = known.get(located.qualname)
        if params is None:
            params = known[located.qualname] = index.rate_params(located.cls)
        if not params:
            continue
        for arg in inst.args:
            bound = bind(located.cls, arg.keyword, arg.position)
            if bound in params and arg.value is not None:
                yield PassedRate(arg, arg.value, located.cls.name, params[bound])


def rate_value(index: ProjectIndex, rate: Rate) -> Optional[float]:
    """The rate a dropout runs with, where the run shows a single one: the value written,
    or for an ``__init__`` parameter the one value every instantiation seen gives it
    (its default where it is not passed, or where no instantiation is seen). None when
    it is not known or differs between instantiations: ``Attn(attn_drop=attn_drop_rate)``
    makes the 0.0 default of ``attn_drop`` no longer the rate."""
    if rate.param is None or rate.owner is None:
        return rate.value
    given = index.shared("given_rates", lambda: _given_rates(index)).get((rate.owner, rate.param))
    if given is None:
        return rate.value
    return next(iter(given)) if len(given) == 1 else None


def _given_rates(index: ProjectIndex) -> GivenRates:
    out: GivenRates = {}
    for _, inst, located in index.instantiations():
        if located is None or not index.may_pass_rates(located):
            continue
        cls = located.cls
        for param in cls.params:
            out.setdefault((cls.qualname, param.name), set()).add(_given(cls, inst, param.name))
    return out


def _given(cls: ClassSummary, inst: Instantiation, param: str) -> Optional[float]:
    """The value an instantiation gives a parameter: a caller's own parameter passed on
    is its callers' to choose, so it is not known here."""
    for arg in inst.args:
        if bind(cls, arg.keyword, arg.position) == param:
            return None if arg.param is not None else arg.value
    if inst.star:
        return None
    default = next((p.default for p in cls.params if p.name == param), None)
    return None if default is None else default.value


# An argument of a class, as (the class's qualified name, the parameter).
ArgumentOf = tuple[str, str]
_PASSES = 4  # how many classes deep a value passed on is followed


def values_given(index: ProjectIndex, wanted: set[ArgumentOf]) -> dict[ArgumentOf, Optional[frozenset[Optional[float]]]]:
    """The values every instantiation in the run gives each wanted argument: a number,
    the parameter's default where it is not passed, or None where it is not known;
    followed through callers that pass on an argument of their own (``Block(drop=drop)``
    gives ``Block``'s ``drop`` whatever its callers give ``drop``). A class the run never
    builds maps to None: it is built outside the run, with any value."""
    sources: dict[ArgumentOf, list[Optional[object]]] = {}  # a value, an ArgumentOf, or None
    pending = set(wanted)
    for _ in range(_PASSES):
        if not pending:
            break
        for pair in pending:
            sources[pair] = []
        by_class: dict[str, list[str]] = {}
        for cls, param in pending:
            by_class.setdefault(cls, []).append(param)
        for _, inst, located in index.instantiations():
            if located is None or located.qualname not in by_class:
                continue
            for param in by_class[located.qualname]:
                sources[(located.qualname, param)].append(_source(located.cls, inst, param))
        pending = {
            source
            for found in sources.values()
            for source in found
            if isinstance(source, tuple) and source not in sources
        }
    memo: dict[ArgumentOf, Optional[frozenset[Optional[float]]]] = {}
    return {pair: _values(pair, sources, memo, set()) for pair in wanted}


def _source(cls: ClassSummary, inst: Instantiation, param: str) -> Optional[object]:
    for arg in inst.args:
        if bind(cls, arg.keyword, arg.position) == param:
            if arg.param is not None and inst.owner is not None:
                return (inst.owner, arg.param)
            return None if chosen_by_caller(arg.origin) else arg.value
    if inst.star:
        return None
    default = next((p.default for p in cls.params if p.name == param), None)
    return None if default is None else default.value


def _values(
    pair: ArgumentOf,
    sources: dict[ArgumentOf, list[Optional[object]]],
    memo: dict[ArgumentOf, Optional[frozenset[Optional[float]]]],
    active: set[ArgumentOf],
) -> Optional[frozenset[Optional[float]]]:
    if pair in memo:
        return memo[pair]
    found = sources.get(pair)
    if not found or pair in active:
        return None  # built outside the run (or not followed this far)
    active.add(pair)
    out: set[Optional[float]] = set()
    for source in found:
        if isinstance(source, tuple):
            inner = _values(source, sources, memo, active)
            out |= inner if inner is not None else {None}
        else:
            out.add(source if isinstance(source, float) else None)
    active.discard(pair)
    memo[pair] = frozenset(out)
    return memo[pair]
