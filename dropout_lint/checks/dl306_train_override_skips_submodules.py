from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import literal_bool
from dropout_lint.analysis.layers import module_layer
from dropout_lint.analysis.mode_override import accepts_mode, eval_outcomes
from dropout_lint.analysis.structure import ClassInfo
from dropout_lint.analysis.syntax import dotted_name, iter_nodes
from dropout_lint.analysis.vocabulary import MODE_SWITCHES
from dropout_lint.catalog import DL306 as RULE
from dropout_lint.rule import Check


# Layers whose behaviour depends on the mode, and containers that may hold one.
_MODE_KINDS = frozenset(
    {"dropout", "channel_dropout", "alpha_dropout", "batchnorm", "rnn", "attention", "sequential", "module_list", "module_dict"}
)
_SHOWN = 3


class TrainOverrideSkipsSubmodules(Check):
    rule = RULE

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        cls = self.ctx.facts.class_info(node)
        method = cls.methods.get("train")
        if method is None or method.decorators or not self.ctx.facts.is_module_class(cls):
            return
        if not accepts_mode(method):
            self.report(
                method.name,
                f"`{cls.name}.train()` cannot take the mode: `eval()` calls `train(False)`, which raises a "
                f"TypeError, so no part is ever switched to eval mode; keep `train(self, mode=True)` and give "
                f"the other work a method of its own",
            )
            return
        outcomes = eval_outcomes(method, cls.methods)
        if outcomes is None:
            return
        frozen = _frozen_parts(cls, method)
        if frozen is None:
            return  # the class puts itself in eval mode: its parts stay there
        parts = self._mode_parts(cls)
        missing: set[str] = set()
        for outcome in outcomes:
            left = outcome.passed_over if outcome.every_child else parts
            missing |= left - outcome.switched - frozen
        if not missing:
            return
        names = sorted(missing)
        shown = ", ".join(f"`self.{name}`" for name in names[:_SHOWN]) + (", ..." if len(names) > _SHOWN else "")
        self.report(
            method.name,
            f"`{cls.name}.train()` does not pass the mode on to {shown}: `eval()` calls it too, so "
            f"{'that part stays' if len(names) == 1 else 'those parts stay'} in training mode, dropout "
            f"included; call `super().train(mode)`, then put a frozen part back with `.eval()`",
        )

    def _mode_parts(self, cls: ClassInfo) -> frozenset[str]:
        """The attributes of the class that are parts with a mode: a torch layer that
        behaves differently in training, a module class of this file, or anything the
        class switches with ``.train()``/``.eval()``."""
        parts = set(_switched_attributes(cls.node))
        for attr, bindings in cls.self_bindings.items():
            for binding in bindings:
                if type(binding.value) is cst.Call and self._builds_mode_part(binding.value):
                    parts.add(attr)
        return frozenset(parts)

    def _builds_mode_part(self, call: cst.Call) -> bool:
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return False
        qualname = self.ctx.facts.imports.qualify(func)
        layer = module_layer(qualname) if qualname is not None else None
        if layer is not None:
            return layer.kind in _MODE_KINDS or "Transformer" in (qualname or "")
        if type(func) is cst.Name:
            return any(self.ctx.facts.is_module_class(local) for local in self.ctx.facts.classes_by_name.get(func.value, ()))
        return False


def _switched_attributes(scope: cst.CSTNode, to_eval: bool = False) -> set[str]:
    """The attributes ``self.<name>`` that ``scope`` calls ``.train()``/``.eval()`` on
    (``to_eval``: only ``.eval()`` and ``.train(False)``); ``self`` itself is ``""``."""
    out: set[str] = set()
    for node in iter_nodes(scope):
        if type(node) is not cst.Call or type(node.func) is not cst.Attribute or node.func.attr.value not in MODE_SWITCHES:
            continue
        if to_eval and node.func.attr.value == "train" and not (node.args and literal_bool(node.args[0].value) is False):
            continue
        receiver = dotted_name(node.func.value)
        if receiver == "self":
            out.add("")
        elif receiver is not None and receiver.startswith("self."):
            out.add(receiver.split(".")[1])
    return out


def _frozen_parts(cls: ClassInfo, override: cst.FunctionDef) -> frozenset[str] | None:
    """The parts another method of the class puts in eval mode (a frozen encoder stays
    there whatever the override does); None when ``__init__`` puts the whole module
    there (a module that is never meant to train)."""
    frozen: set[str] = set()
    for name, method in cls.methods.items():
        if method is override:
            continue
        switched = _switched_attributes(method, to_eval=True)
        if "" in switched and name == "__init__":
            return None
        frozen |= switched - {""}
    return frozenset(frozen)
