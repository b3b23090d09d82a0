from __future__ import annotations

from typing import Optional

import libcst as cst

from dropout_lint.analysis.calls import literal_bool
from dropout_lint.analysis.layers import module_layer
from dropout_lint.analysis.module_use import used_as_module
from dropout_lint.analysis.structure import ClassInfo
from dropout_lint.analysis.syntax import (
    assignment_targets,
    dotted_name,
    iter_nodes,
    target_names,
)
from dropout_lint.analysis.vocabulary import MODE_SWITCHES
from dropout_lint.catalog import DL305 as RULE
from dropout_lint.context import Edit
from dropout_lint.rule import Check


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
            if method is not None and method.name.value in MODE_SWITCHES:
                return  # an override of train()/eval() sets the flag itself
            if flag is None:
                return
            if flag is False and not self._children_in_training(cls):
                return  # every submodule the class builds is already in eval mode
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
            f"assigning `{shown}.training` leaves its submodules (dropout, batch norm) in their old mode; call {fix}",
            edit,
        )

    def _children_in_training(self, cls: ClassInfo) -> bool:
        """Whether the class builds a submodule that is in training mode when its own flag
        is set to False: a fresh dropout, batch-norm, recurrent or container layer, or a
        module class of this file that does not put itself in eval mode, which none of the
        class's methods switches with ``.eval()`` (or ``self.apply(...)``), or a part handed
        to it (a parameter without a default). Submodules the class gets otherwise (a model
        loaded by a call) have no mode to go by."""
        switched = _switched_in(cls.node)
        if "self" in switched:
            return False
        for attr, bindings in cls.self_bindings.items():
            if f"self.{attr}" in switched:
                continue
            for binding in bindings:
                value = binding.value
                if type(value) is cst.Call and self._builds_training_module(value):
                    return True
                if type(value) is cst.Name and binding.method is not None and _required_param(binding.method, value.value):
                    return True  # a part handed in (`Predictor(Encoder())`): new parts train
        return False

    def _builds_training_module(self, call: cst.Call) -> bool:
        qualname = self.ctx.facts.imports.qualify(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
        layer = module_layer(qualname) if qualname is not None else None
        if layer is not None:
            return layer.is_dropout or layer.kind in _MODE_KINDS or "Transformer" in (qualname or "")
        if type(call.func) is not cst.Name:
            return False
        for local in self.ctx.facts.classes_by_name.get(call.func.value, ()):
            if self.ctx.facts.is_module_class(local):
                return "self" not in _switched_in(local.node) and not _sets_own_flag_off(local.node)
        return False

    def _switches_other_modules(self, receiver: cst.BaseExpression) -> bool:
        """Whether the surrounding function calls ``.eval()``/``.train()`` on another
        object: its author knows those methods and sets this one flag deliberately."""
        scope = self.ctx.enclosing_function() or self.ctx.module
        own = dotted_name(receiver)
        for node in iter_nodes(scope):
            if (
                type(node) is cst.Call
                and type(node.func) is cst.Attribute
                and node.func.attr.value in MODE_SWITCHES
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


_MODE_KINDS = frozenset({"batchnorm", "rnn", "attention", "sequential", "module_list", "module_dict"})


def _switched_in(scope: cst.CSTNode) -> frozenset[str]:
    """The objects ``scope`` switches to eval: ``self.model.eval()`` / ``.train(False)``
    gives ``self.model``; ``self.eval()``, ``self.apply(...)`` or a loop over
    ``self.children()``/``self.modules()`` that switches each gives ``self``."""
    out: set[str] = set()
    for node in iter_nodes(scope):
        if type(node) is not cst.Call or type(node.func) is not cst.Attribute:
            continue
        method = node.func.attr.value
        receiver = dotted_name(node.func.value)
        if method == "eval" or (method == "train" and node.args and literal_bool(node.args[0].value) is False):
            if receiver is not None:
                out.add(receiver)
        elif method == "apply" and receiver == "self":
            out.add("self")
    for node in iter_nodes(scope):
        if type(node) is cst.For and type(node.iter) is cst.Call and type(node.iter.func) is cst.Attribute:
            if node.iter.func.attr.value in ("children", "modules") and dotted_name(node.iter.func.value) == "self":
                if any(name in out for name in target_names(node.target)):
                    out.add("self")
    return frozenset(out)


def _sets_own_flag_off(cls: cst.ClassDef) -> bool:
    """Whether the class's ``__init__`` assigns ``self.training = False`` itself."""
    for node in iter_nodes(cls):
        if type(node) is cst.FunctionDef and node.name.value == "__init__":
            for inner in iter_nodes(node):
                if type(inner) is cst.Assign and literal_bool(inner.value) is False:
                    if any(dotted_name(t.target) == "self.training" for t in inner.targets):
                        return True
    return False


def _required_param(method: cst.FunctionDef, name: str) -> bool:
    """Whether ``name`` is a parameter of ``method`` that has no default (a part, not a
    setting such as ``p=0.1``)."""
    params = method.params
    return any(p.name.value == name and p.default is None for p in (*params.posonly_params, *params.params, *params.kwonly_params))
