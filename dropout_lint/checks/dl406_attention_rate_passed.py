"""DL406 for a function of the run that passes its rate on to an attention kernel,
called from a module (by name, or stored by ``__init__``) with a rate not gated on the
mode: a check over the project index (the function is often defined in another file),
apart from the check of the syntax tree
(``dl406_attention_dropout_always_on``) so that it runs over cached summaries without
libcst."""

from __future__ import annotations

from collections.abc import Iterator
from os.path import basename

from dropout_lint.catalog import DL406 as RULE
from dropout_lint.project.attention import attention_calls
from dropout_lint.project.place import LINE
from dropout_lint.rule import ProjectCheck, ProjectFinding


class AttentionRatePassed(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for found in attention_calls(self.index):
            call, argument, rate = found.call, found.argument, found.rate
            if argument.keyword is not None:
                shown = f"`{argument.keyword}={argument.text}`"
            else:
                shown = f"`{argument.text}` (its `{rate.param}`)"
            passer = f"`{call.stored if call.stored is not None else call.callee}`"
            where = f"line {LINE}" if rate.place.path == call.place.path else f"{basename(rate.place.path)}:{LINE}"
            yield ProjectFinding(
                argument.place,
                f"{shown} of `{call.callee}` is not gated on `{call.self_name}.training`: {passer} passes it "
                f"to `{rate.kernel}` ({where})",
                (rate.place,),
            )
