"""Shared wording for findings about a dropout rate."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dropout_lint.project.rates import PassedRate

if TYPE_CHECKING:
    from dropout_lint.analysis.constants import Resolved


def describe_rate(keyword: str, written: str, resolved: Resolved) -> str:
    """``p=1.0`` as written, or ``p = 0.9 (the default of `drop`)`` when resolved."""
    if resolved.origin is None:
        return f"`{keyword}={written}`"
    return f"`{keyword}` = {resolved.value!r} ({resolved.origin})"


def passed(rate: PassedRate) -> str:
    """```drop=0.9` passed to `Block```, with where the value comes from when it is not
    written there."""
    argument = rate.argument
    shown = f"{argument.keyword}={argument.text}" if argument.keyword else argument.text
    origin = f" ({argument.origin})" if argument.origin else ""
    return f"`{shown}`{origin} passed to `{rate.callee}`"
