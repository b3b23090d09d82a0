"""Attention functions stored at construction: ``self.attend = make_attention()`` (or
``= attention``) in ``__init__``, called in ``forward`` with a rate that never depends on
the mode, where the function stored passes that rate on to an attention kernel, which
drops whatever the mode."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Optional

from dropout_lint.project.index import ProjectIndex
from dropout_lint.project.summary import Argument, AttentionRate, StoredCall


@dataclass(frozen=True)
class StoredAttention:
    """A call of a stored function with a fixed rate that reaches an attention kernel."""

    call: StoredCall
    argument: Argument  # the rate as the call gives it
    rate: AttentionRate  # the parameter it binds, and the kernel it reaches


def stored_attention_calls(index: ProjectIndex) -> Iterator[StoredAttention]:
    """Each call, in a module class of the run, of a stored function of the run that
    passes a rate the call fixes to an attention kernel (once a call)."""
    for located in index.module_classes(having="stored_calls"):
        for call in located.cls.stored_calls:
            function = index.function(call.target)
            if function is None:
                continue  # not the run's function (a class, or code outside the run)
            rates = function.returned_attention if call.made else function.attention
            for rate in rates:
                argument = _given(call.fixed, rate)
                if argument is not None:
                    yield StoredAttention(call, argument, rate)
                    break


def _given(arguments: Sequence[Argument], rate: AttentionRate) -> Optional[Argument]:
    """The argument that binds the rate's parameter, by keyword or by position."""
    for argument in arguments:
        if argument.keyword == rate.param:
            return argument
        if argument.keyword is None and argument.position is not None and argument.position == rate.position:
            return argument
    return None
