from __future__ import annotations

from typing import Optional

import libcst as cst

from dropout_lint.analysis.calls import find_arg, literal_bool
from dropout_lint.analysis.syntax import is_self_attribute
from dropout_lint.analysis.torch_api import ApiKind, DropoutApi
from dropout_lint.catalog import DL409 as RULE
from dropout_lint.rule import Check


class DropoutResultDiscarded(Check):
    rule = RULE

    def visit_Expr(self, node: cst.Expr) -> None:
        call = node.value
        if type(call) is not cst.Call:
            return
        if self._functional_out_of_place(call) or self._module_call(call):
            shown = self.ctx.text(call)
            self.report(
                call,
                f"the result of `{shown}` is discarded: dropout is not in place, so this line does nothing",
            )

    def _functional_out_of_place(self, call: cst.Call) -> bool:
        api = self.ctx.api(call)
        if api is None or api.kind not in (ApiKind.FUNCTIONAL, ApiKind.ATEN) or api.always_inplace:
            return False
        return _not_inplace(call, api)

    def _module_call(self, call: cst.Call) -> bool:
        func = call.func
        if type(func) is cst.Call:
            api: Optional[DropoutApi] = self.ctx.api(func)
            return api is not None and api.kind is ApiKind.MODULE and _not_inplace(func, api)
        if type(func) is not cst.Attribute or type(func.value) is not cst.Name:
            return False  # not `self.<layer>(x)`
        cls, method = self.ctx.enclosing_method()
        if cls is None or method is None:
            return False
        self_name = self.ctx.facts.function(method).self_name
        attr = is_self_attribute(func, self_name) if self_name else None
        return attr is not None and self.ctx.dropout_module_attribute(cls, attr) is not None


def _not_inplace(call: cst.Call, api: DropoutApi) -> bool:
    if api.inplace is None:
        return True
    found = find_arg(call, api.inplace)
    if found.unknown:
        return False
    return found.missing or literal_bool(found.value) is False
