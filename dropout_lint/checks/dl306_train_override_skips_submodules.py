from __future__ import annotations

import libcst as cst

from dropout_lint.analysis.calls import literal_bool
from dropout_lint.analysis.layers import module_layer
from dropout_lint.analysis.mode_override import accepts_mode, eval_outcomes
from dropout_lint.analysis.structure import ClassInfo
from dropout_lint.analysis.syntax import dotted_name, iter_nodes
from dropout_lint.analysis.torch_api import canonical
from dropout_lint.analysis.vocabulary import MODE_SWITCHES, MODEL_LIBRARIES
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
            if not self._mode_parts(cls):
                return  # nothing with a mode to leave in training: `eval()` fails loudly, harmlessly
            self.report(
                method.name,
                f"`{cls.name}.train()` takes no mode, so `eval()`, which calls `train(False)`, raises a TypeError; "
                "keep `train(self, mode=True)`",
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
            f"`{cls.name}.train()` does not pass the mode on to {shown}, so `eval()` leaves "
            f"{'it' if len(names) == 1 else 'them'} in training mode; call `super().train(mode)`",
        )

    def _mode_parts(self, cls: ClassInfo) -> frozenset[str]:
        """The attributes of the class that are parts with a mode: a torch layer that
        behaves differently in training, a module class of this file, a parameter of
        ``__init__`` annotated as a model, or anything the class switches with
        ``.train()``/``.eval()``."""
        parts = set(_switched_attributes(cls.node))
        init = cls.methods.get("__init__")
        given = self._module_params(init) if init is not None else frozenset()
        for attr, bindings in cls.self_bindings.items():
            for binding in bindings:
                value = binding.value
                if type(value) is cst.Call and self._builds_mode_part(value):
                    parts.add(attr)
                elif type(value) is cst.Name and value.value in given:
                    parts.add(attr)
        return frozenset(parts)

    def _module_params(self, init: cst.FunctionDef) -> frozenset[str]:
        """The ``__init__`` parameters annotated as models: ``language_model:
        PreTrainedModel``, ``encoders: dict[str, Encoder]`` of a module class of this
        file, ``backbone: nn.Module``. What the caller gives them has a mode the class
        cannot see, and the class holds it as a part."""
        params = init.params
        found: set[str] = set()
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.annotation is not None and self._names_module(param.annotation.annotation):
                found.add(param.name.value)
        return frozenset(found)

    def _names_module(self, annotation: cst.BaseExpression) -> bool:
        """Whether the annotation holds models: a model class, a container of them, or a
        union whose every member but ``None`` does (``str | Path | Model`` may be a
        name)."""
        members = _union_members(annotation)
        if members is not None:
            return all(_is_none(member) or self._names_module(member) for member in members) and not all(
                _is_none(member) for member in members
            )
        for node in iter_nodes(annotation):
            if type(node) is cst.Name and any(
                self.ctx.facts.is_module_class(local) for local in self.ctx.facts.classes_by_name.get(node.value, ())
            ):
                return True
            if isinstance(node, (cst.Name, cst.Attribute)):
                qualname = self.ctx.facts.imports.qualify(node)
                if qualname is not None and _is_model_type(qualname):
                    return True
        return False

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


def _union_members(annotation: cst.BaseExpression) -> list[cst.BaseExpression] | None:
    """The members of ``A | B``, ``Union[A, B]`` or ``Optional[A]`` (with ``None``); None
    for any other annotation."""
    if type(annotation) is cst.BinaryOperation and type(annotation.operator) is cst.BitOr:
        left = _union_members(annotation.left) or [annotation.left]
        right = _union_members(annotation.right) or [annotation.right]
        return [*left, *right]
    if type(annotation) is cst.Subscript:
        name = dotted_name(annotation.value)
        if name is not None and name.rsplit(".", 1)[-1] in ("Union", "Optional"):
            members = [el.slice.value for el in annotation.slice if type(el.slice) is cst.Index]
            return [*members, cst.Name("None")] if name.endswith("Optional") else members
    return None


def _is_none(annotation: cst.BaseExpression) -> bool:
    return type(annotation) is cst.Name and annotation.value == "None"


def _is_model_type(qualname: str) -> bool:
    """``nn.Module`` (however torch's path to it is written) or a model class of a model
    library (``PreTrainedModel``, ``BertModel``); not a single torch layer."""
    name = canonical(qualname)
    if name == "torch.nn.Module":
        return True
    return name.startswith(MODEL_LIBRARIES) and not name.startswith("torch.") and name.endswith("Model")


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
