from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.syntax import is_self_attribute
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.catalog import DL402 as RULE
from dropout_lint.rule import Check


_REGISTERING_CALLS = frozenset({"add_module", "register_module", "setattr"})


class DropoutModuleInForward(Check):
    rule = RULE

    def visit_Call(self, node: cst.Call) -> None:
        api = self.ctx.api(node)
        if api is None or api.kind is not ApiKind.MODULE:
            return
        cls, method = self.ctx.module_method()
        if cls is None or method is None or method.name.value != "forward":
            return
        if self._registered(node) or self.ctx.gated(node):
            return
        found = self.ctx.rate_argument(node)
        if found is not None:
            resolved = self.ctx.resolve_number(found[1])
            if resolved is not None and resolved.value == 0:
                return  # a module that never drops does no harm
        callee = self.ctx.text(node.func)
        self.report(
            node,
            f"`{callee}` built inside `forward` drops at inference too: `model.eval()` never reaches it; "
            "create it in `__init__`",
        )

    def _registered(self, node: cst.Call) -> bool:
        """``self.drop = nn.Dropout(p)`` or ``self.add_module(...)``: a lazily registered
        submodule, which ``model.eval()`` reaches from then on."""
        parent = self.ctx.ancestors[-1] if self.ctx.ancestors else None
        if type(parent) is cst.Assign and parent.value is node:
            return any(is_self_attribute(t.target) is not None for t in parent.targets)
        if type(parent) is cst.Arg and len(self.ctx.ancestors) >= 2:
            outer = self.ctx.ancestors[-2]
            if type(outer) is cst.Call:
                func = outer.func
                name = func.attr.value if type(func) is cst.Attribute else getattr(func, "value", None)
                return name in _REGISTERING_CALLS
        return False
