from __future__ import annotations

from typing import Optional

import libcst as cst

from dropout_lint.analysis.calls import literal_bool
from dropout_lint.analysis.module_use import used_as_module
from dropout_lint.analysis.syntax import assignment_targets, dotted_name, iter_nodes
from dropout_lint.diagnostics import FixSafety, Severity
from dropout_lint.rule import Check, Edit, Rule

RULE = Rule(
    code="DL305",
    name="training-flag-assigned",
    severity=Severity.ERROR,
    summary="`model.training = ...` is assigned directly, so submodules keep their old mode.",
    fix_safety=FixSafety.SAFE,
)

_MODE_METHODS = frozenset({"train", "eval"})


class TrainingFlagAssigned(Check):
    rule = RULE

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            expr = target.target
            if type(expr) is cst.Attribute and expr.attr.value == "training":
                # Only `model.training = True/False` alone is rewritten into a call.
                self._check(expr, node.value, node if len(node.targets) == 1 else None)

    def _check(self, target: cst.Attribute, value: cst.BaseExpression, statement: Optional[cst.Assign]) -> None:
        receiver = target.value
        flag = literal_bool(value)
        if type(value) is cst.Attribute and value.attr.value == "training":
            return  # copies one module's own flag to another (a converted leaf layer)
        if self._is_loop_variable(receiver):
            return  # sets every module of a loop over .modules(): all flags change
        if self._switches_other_modules(receiver):
            return  # `model.eval(); head.training = True`: one module's flag, on purpose
        if type(receiver) is cst.Name and receiver.value == "self":
            cls, method = self.ctx.enclosing_method()
            if cls is None or not self.ctx.facts.is_module_class(cls):
                return  # an ordinary object's own flag
            if method is not None and method.name.value in _MODE_METHODS:
                return  # an override of train()/eval() sets the flag itself
            if flag is None:
                return
        elif not self._used_as_module(receiver):
            return  # no evidence of a torch module: a trainer's or a wrapper's own `training`
        shown = self.ctx.text(receiver)
        if flag is None:
            fix = f"`{shown}.train({self.ctx.text(value)})`"
        else:
            fix = f"`{shown}.train()`" if flag else f"`{shown}.eval()`"
        edit = None
        if flag is not None and statement is not None:
            switch = cst.Attribute(value=receiver, attr=cst.Name("train" if flag else "eval"))
            edit = Edit(statement, cst.Call(func=switch), f"Call {fix}")
        self.report(
            target,
            f"assigning `{shown}.training` changes only this module's flag: its submodules "
            f"(dropout, batch norm) keep their old mode; call {fix}",
            edit,
        )

    def _switches_other_modules(self, receiver: cst.BaseExpression) -> bool:
        """Whether the surrounding function calls ``.eval()``/``.train()`` on another
        object: its author knows those methods and sets this one flag deliberately."""
        scope = self.ctx.enclosing_function() or self.ctx.module
        own = dotted_name(receiver)
        for node in iter_nodes(scope):
            if (
                type(node) is cst.Call
                and type(node.func) is cst.Attribute
                and node.func.attr.value in _MODE_METHODS
                and dotted_name(node.func.value) != own
            ):
                return True
        return False

    def _used_as_module(self, receiver: cst.BaseExpression) -> bool:
        """Whether the code around calls ``receiver`` (or an object it is part of) like a
        model or calls a method of ``nn.Module`` on it. An attribute of ``self`` is looked
        for in the whole class, other names in the surrounding function."""
        dotted = dotted_name(receiver)
        if dotted is None:
            return False
        parts = dotted.split(".")
        names = frozenset(".".join(parts[:end]) for end in range(1, len(parts) + 1)) - {"self"}
        cls, _ = self.ctx.enclosing_method()
        if parts[0] == "self" and cls is not None:
            return used_as_module(cls.node, names)
        return used_as_module(self.ctx.enclosing_function() or self.ctx.module, names)

    def _is_loop_variable(self, receiver: cst.BaseExpression) -> bool:
        dotted = dotted_name(receiver)
        if dotted is None:
            return False
        name = dotted.split(".", 1)[0]
        for ancestor in reversed(self.ctx.ancestors):
            if type(ancestor) is cst.FunctionDef:
                return False
            if type(ancestor) is cst.For:
                for bound, _ in assignment_targets(ancestor):
                    if type(bound) is cst.Name and bound.value == name:
                        return True
        return False
