"""Attention functions of the run called from a module with a rate that never depends
on the mode: ``attend(q, k, v, dropout_p=self.dropout)``, or ``self.attend(...)`` of a
function ``__init__`` stores (``self.attend = make_attention()``, ``= attend``), where the
function passes that rate on to an attention kernel, which drops whatever the mode."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.summary import Argument, AttentionRate, HelperCall


@dataclass(frozen=True)
class AttentionCall:
    """A call of a function with a fixed rate that reaches an attention kernel."""

    call: HelperCall
    argument: Argument  # the rate as the call gives it
    rate: AttentionRate  # the parameter it binds, and the kernel it reaches


def attention_calls(index: ProjectIndex) -> Iterator[AttentionCall]:
    """Each call, in a module class of the run, of a function of the run that passes a
    rate the call fixes to an attention kernel (once a call)."""
    for located in index.module_classes(having="helper_calls"):
        for call in located.cls.helper_calls:
            function = index.function(call.target)
            if function is None:
                continue  # not the run's function (a class, or code outside the run)
            rates = function.returned_attention if call.made else function.attention
            for rate in rates:
                argument = _given(call.fixed, rate)
                if argument is not None:
                    yield AttentionCall(call, argument, rate)
                    break


def _given(arguments: Sequence[Argument], rate: AttentionRate) -> Optional[Argument]:
    """The argument that binds the rate's parameter, by keyword or by position."""
    for argument in arguments:
        if argument.keyword == rate.param:
            return argument
        if argument.keyword is None and argument.position is not None and argument.position == rate.position:
            return argument
    return None
