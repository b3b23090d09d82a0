"""Dropout rates passed from one class to another: ``Block(drop=0.9)`` reaches the
``nn.Dropout(drop)`` in ``Block.__init__``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dropout_lint.project.index import ProjectIndex, bind
from dropout_lint.project.summary import Argument


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


def describe(passed: PassedRate) -> str:
    """```drop=0.9` of `Block(...)` reaches `nn.Dropout(drop)` in `Block```."""
    argument = passed.argument
    shown = f"{argument.keyword}={argument.text}" if argument.keyword else argument.text
    origin = f" ({argument.origin})" if argument.origin else ""
    return f"`{shown}`{origin} passed to `{passed.callee}` reaches {passed.reaches}"
