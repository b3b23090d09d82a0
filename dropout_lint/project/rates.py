"""Dropout rates passed from one class to another: ``Block(drop=0.9)`` reaches the
``nn.Dropout(drop)`` in ``Block.__init__``, and a parameter's default decides the rate
only where no instantiation gives the parameter another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Optional

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
