"""Summarise one parsed file for the cross-file rules.

``SummaryCollector`` rides along the engine's single traversal (it sees every call and
attribute the checks see); ``summarise`` then reads classes and functions from the
statements, interprets each ``forward``, and places every node a rule may report, in
one position pass.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Optional

import libcst as cst

from dropout_lint.analysis import torch_api
from dropout_lint.analysis.calls import find_arg
from dropout_lint.analysis.constants import Scope, literal_number
from dropout_lint.analysis.init_params import Fate, Keeper, dropout_arguments
from dropout_lint.analysis.layers import (
    FACTORY_FUNCTIONS,
    LayerType,
    factory_kind,
    factory_layer,
    is_layer_factory,
    module_layer,
)
from dropout_lint.analysis.mappings import NameScope, known_entries
from dropout_lint.analysis.module_use import module_used
from dropout_lint.analysis.structure import Binding, ClassInfo, FunctionInfo
from dropout_lint.analysis.submodule_loops import only_inspects
from dropout_lint.analysis.torch_api import ApiKind
from dropout_lint.analysis.syntax import (
    assignment_targets,
    dotted_name,
    enclosing_tests,
    function_body,
    is_self_attribute,
    iter_nodes,
    iter_statements,
    last_identifier,
)
from dropout_lint.analysis.training import Gating, boolean_operands, mentions_mode
from dropout_lint.analysis.vocabulary import MODE_SWITCHES, MODEL_METHODS
from dropout_lint.context import FileContext
from dropout_lint.project.flow import FlowBuilder
from dropout_lint.project.identity import identify, plain
from dropout_lint.project.modes_builder import EventBuilder, local_names
from dropout_lint.project.modes_ir import ModeFunction, active, prune
from dropout_lint.project.randomness import random_drops
from dropout_lint.project.summary import (
    Argument,
    AttentionRate,
    ClassSummary,
    Dimension,
    FileSummary,
    FlagUse,
    Flow,
    FunctionSummary,
    HelperCall,
    IgnoredArgument,
    Instantiation,
    Layer,
    Param,
    Places,
    RandomDrop,
    Rate,
)
from dropout_lint.records import share_strings

# Using an instance this way makes it a model being trained, evaluated or saved.
_MODEL_METHODS = MODEL_METHODS | MODE_SWITCHES
_MODEL_CONSUMERS = re.compile(r"train|fit|evaluat|validat|test|predict|infer|save|compile|parallel|trainer|optim", re.I)
_DYNAMIC_METHODS = frozenset({"children", "modules", "named_children", "named_modules"})
# Builtins that take `self` and look at it (or at one named attribute) without handing
# it to code that may apply its layers: `hasattr(self, "x")`, `super(Net, self)`.
_LOOKS_AT_SELF = frozenset({"getattr", "vars", "hasattr", "isinstance", "issubclass", "super", "type", "id", "setattr", "delattr", "callable", "repr", "str"})
# SELU activations and alpha dropout, which the class summary notes.
_SELU = frozenset({"SELU", "selu", "selu_"})
_ALPHA = frozenset({"alpha_dropout", "feature_alpha_dropout"})
# Calls that make a module's method matter to the train/eval mode analysis.
_MODE_CALLS = frozenset({"train", "eval", "backward", "step", "trace", "trace_module", "export", "no_grad", "inference_mode"})
# Names of the calls that make random draws (see project.randomness).
_DRAWS = frozenset({"rand", "rand_like", "random", "uniform", "uniform_", "bernoulli", "bernoulli_", "binomial"})
# A home-made flag is named like the mode.
_FLAG_NAME = re.compile(
    r"(^|_)(train|training|eval|evaluation|evaluating|infer|inference|test|testing|deterministic|mode)($|_)",
    re.IGNORECASE,
)
_INIT_METHODS = re.compile(r"^(__init__|_?init_weights|reset_parameters|_?initialize.*|_init.*)$")


@dataclass(frozen=True)
class _Construction:
    """A call that may build a class, and where it is."""

    call: cst.Call
    cls: Optional[ClassInfo]
    method: Optional[cst.FunctionDef]
    function: Optional[cst.FunctionDef]
    parent: Optional[cst.CSTNode]

    def bound_names(self) -> Iterator[str]:
        """The names it is assigned to (``model = Net()``, ``self.model = Net()``)."""
        if isinstance(self.parent, (cst.Assign, cst.AnnAssign)) and self.parent.value is self.call:
            for target, _ in assignment_targets(self.parent):
                name = dotted_name(target)
                if name is not None:
                    yield name


@dataclass
class _ClassNotes:
    """What the traversal saw inside one class."""

    dynamic: bool = False
    selu: bool = False
    alpha: list[cst.Call] = field(default_factory=list)
    references: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)  # self attributes used as modules
    calls: set[str] = field(default_factory=set)  # `self.name(...)` outside initialisation
    reaches: set[str] = field(default_factory=set)  # "embeddings.dropout" of `self.embeddings.dropout`
    prefixes: set[str] = field(default_factory=set)  # "conv" of `getattr(self, f"conv{i}")`
    inherits: bool = False  # `super().name(...)` outside initialisation
    # `attend(q, k, v, dropout_p=self.p)`, or `self.attend(...)` of a function `__init__`
    # stores: the call, the value stored (None for a call by name), its arguments that
    # never depend on the mode (with their positions), and the method's `self`.
    helper_calls: list[
        tuple[cst.Call, Optional[cst.BaseExpression], list[tuple[cst.Arg, Optional[int]]], str]
    ] = field(default_factory=list)


class SummaryCollector:
    """Notes, during the engine's traversal, the calls the summary needs."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.numbering: dict[int, int] = {}  # filled by the walker: node -> rank
        self.classes: dict[int, _ClassNotes] = {}
        self.constructions: list[_Construction] = []
        # Lower-case calls in classes, with the function around them.
        self.factory_calls: list[tuple[cst.Call, ClassInfo, Optional[cst.FunctionDef], cst.FunctionDef]] = []
        self.drawing: set[int] = set()  # functions that make random draws
        self.switching: set[int] = set()  # functions that switch modes, train, or export
        self.flag_uses: list[tuple[str, str, str, cst.Call]] = []  # (flag, kind, owner, call)
        self.switched: set[str] = set()  # attributes assigned outside __init__
        # Attention kernels given a parameter of the function around them as the rate.
        self.attention: dict[int, list[tuple[str, cst.Call]]] = {}
        self.functions = {s.name.value for s in ctx.module.body if type(s) is cst.FunctionDef}  # the file's own

    @cached_property
    def module(self) -> str:
        return identify(self.ctx.path).module

    def visit_Assign(self, node: cst.Assign) -> None:
        _, method = self.ctx.enclosing_method()
        if method is not None and method.name.value == "__init__":
            return  # the constructor's own setting is what the flag starts with
        for target in node.targets:
            if type(target.target) is cst.Attribute:
                self.switched.add(target.target.attr.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        value = node.value
        if type(value) is not cst.Name or value.value != "self":
            return
        parent = self.ctx.ancestors[-1] if self.ctx.ancestors else None
        if type(parent) is cst.AssignTarget and parent.target is node:
            return  # `self.drop = ...` registers; it does not read
        cls, _ = self.ctx.enclosing_method()
        if cls is not None:
            notes = self.classes.setdefault(id(cls.node), _ClassNotes())
            notes.references.add(node.attr.value)
            if type(parent) is cst.Attribute and parent.value is node:
                notes.reaches.add(f"{node.attr.value}.{parent.attr.value}")

    def visit_Call(self, node: cst.Call) -> None:
        ctx = self.ctx
        cls, method = ctx.enclosing_method()
        func = node.func
        if type(func) is cst.Name and func.value == "setattr" and len(node.args) >= 2:
            attribute = node.args[1].value
            if type(attribute) is cst.SimpleString and isinstance(attribute.evaluated_value, str):
                if method is None or method.name.value != "__init__":
                    self.switched.add(attribute.evaluated_value)
        called = last_identifier(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if called in _DRAWS:
            function = ctx.enclosing_function()
            if function is not None:
                self.drawing.add(id(function))
        if called in _MODE_CALLS:
            self.switching.update(id(a) for a in ctx.ancestors if type(a) is cst.FunctionDef)
        self._note_attention(node)
        if cls is not None and method is not None:
            notes = self.classes.setdefault(id(cls.node), _ClassNotes())
            self._note_class_call(node, notes, method)
            if isinstance(func, (cst.Name, cst.Attribute)) and method.name.value != "__init__":
                self._note_helper_call(node, notes, cls, method)
            used = module_used(node)
            if used is not None and used.startswith("self.") and used.count(".") == 1:
                notes.modules.add(used[5:])
            if self.ctx.facts.module_status(cls) is not False:
                self._note_flag(node, cls)
        if isinstance(func, (cst.Name, cst.Attribute)):
            name = last_identifier(func)
            if name and name[:1].isupper():
                parent = ctx.ancestors[-1] if ctx.ancestors else None
                self.constructions.append(_Construction(node, cls, method, ctx.enclosing_function(), parent))
            elif cls is not None and method is not None and is_self_attribute(func) is None:
                self.factory_calls.append((node, cls, ctx.enclosing_function(), method))

    def _note_flag(self, node: cst.Call, cls: ClassInfo) -> None:
        """A dropout call switched by a flag of the code's own instead of ``self.training``."""
        api = self.ctx.api(node)
        dropout_module = False
        if api is None:
            attr = is_self_attribute(node.func)
            dropout_module = attr is not None and self.ctx.dropout_module_attribute(cls, attr) is not None
            if not dropout_module:
                return
        elif api.kind not in (ApiKind.FUNCTIONAL, ApiKind.ATEN) or api.training is None:
            return
        candidates: list[cst.BaseExpression] = []
        if api is not None and api.training is not None:
            flag = find_arg(node, api.training).value
            if flag is not None:
                candidates.append(flag)
        tests = enclosing_tests(self.ctx.ancestors, node)
        if any(_reads_training(test) for test in tests):
            return
        candidates.extend(tests)
        function = self.ctx.enclosing_function()
        params = self.ctx.facts.function(function).params if function is not None else {}
        owner = f"{self.module}.{cls.name}"
        for candidate in candidates:
            for expr in boolean_operands(candidate):
                attr = is_self_attribute(expr)
                if attr is not None and attr != "training" and _FLAG_NAME.search(attr):
                    self.flag_uses.append((attr, "attr", owner, node))
                elif (
                    type(expr) is cst.Name
                    and expr.value not in params
                    and _FLAG_NAME.search(expr.value)
                    and self.ctx.facts.constant(expr.value) is not None
                ):
                    self.flag_uses.append((expr.value, "global", self.module, node))

    def _note_attention(self, node: cst.Call) -> None:
        """An attention kernel whose rate is a parameter of the function around it, passed
        as it is and not under a test of the mode (or of a flag the caller passes)."""
        api = self.ctx.api(node)
        if api is None or api.kind is not ApiKind.ATTENTION:
            return
        rate = find_arg(node, api.rate).value
        function = self.ctx.enclosing_function()
        if type(rate) is not cst.Name or function is None:
            return
        info = self.ctx.facts.function(function)
        if rate.value in info.params and not info.bindings.get(rate.value) and not self.ctx.gated(node):
            self.attention.setdefault(id(function), []).append((rate.value, node))

    def _note_helper_call(self, node: cst.Call, notes: _ClassNotes, cls: ClassInfo, method: cst.FunctionDef) -> None:
        """A call, outside a test of the mode, of a function that may be the run's:
        ``attend(...)`` by its name, or ``self.attend(...)`` of a function ``__init__``
        stores; with the arguments whose value never depends on the mode."""
        self_name = self.ctx.facts.function(method).self_name or "self"
        attr = is_self_attribute(node.func, self_name)
        stored = _stored_function(cls.self_bindings.get(attr, ())) if attr is not None else None
        if (stored is None if attr is not None else not self._names_function(node)) or self.ctx.gated(node):
            return
        scope = self.ctx.scope()
        fixed: list[tuple[cst.Arg, Optional[int]]] = []
        position: Optional[int] = 0
        for arg in node.args:
            if arg.star:
                position = None  # `*args`: the positions of what follows are unknown
                continue
            rate = self.ctx.gating.rate(arg.value, scope.function, scope.cls)
            if rate is Gating.UNGATED:
                fixed.append((arg, position if arg.keyword is None else None))
            if arg.keyword is None and position is not None:
                position += 1
        if fixed:
            notes.helper_calls.append((node, stored, fixed, self_name))

    def _names_function(self, call: cst.Call) -> bool:
        """Whether a call names what may be a function of the run: a name this file
        defines or imports (``attend``, ``ops.attend``), not a class nor a torch API."""
        func = call.func
        if (last_identifier(func) or "")[:1].isupper() or self.ctx.api(call) is not None:
            return False
        while type(func) is cst.Attribute:
            func = func.value
        return type(func) is cst.Name and (func.value in self.ctx.facts.imports.aliases or func.value in self.functions)

    def _note_class_call(self, node: cst.Call, notes: _ClassNotes, method: cst.FunctionDef) -> None:
        func = node.func
        # Only a name imported as one of these, or an attribute spelt so, can be one.
        if type(func) is cst.Attribute:
            noted = func.attr.value in _SELU or func.attr.value in _ALPHA
        else:
            noted = type(func) is cst.Name and func.value in self.ctx.facts.imports.aliases
        qualname = self.ctx.facts.imports.qualify(func) if noted else None
        if qualname is not None:
            short = qualname.rsplit(".", 1)[-1]
            if qualname.startswith("torch") and short in _SELU:
                notes.selu = True
            if qualname.startswith("torch") and short in _ALPHA:
                notes.alpha.append(node)
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "activation" and type(arg.value) is cst.SimpleString:
                if "selu" in arg.value.value.lower():
                    notes.selu = True
        if _INIT_METHODS.match(method.name.value):
            return
        builtin = func.value if type(func) is cst.Name and func.value in _LOOKS_AT_SELF else None
        if builtin is None and any(type(arg.value) is cst.Name and arg.value.value == "self" for arg in node.args):
            notes.dynamic = True  # `attention(self, q, k, v)`: the callee may apply any layer
        if builtin in ("getattr", "vars") and node.args:
            first = node.args[0].value
            name = node.args[1].value if len(node.args) > 1 else None
            if type(first) is cst.Name and first.value == "self":
                prefix = _name_prefix(name) if name is not None else None
                if type(name) is cst.SimpleString and isinstance(name.evaluated_value, str):
                    notes.references.add(name.evaluated_value)  # `getattr(self, "drop")` reads it
                elif prefix:
                    notes.prefixes.add(prefix)  # `getattr(self, f"conv{i}")` reads `conv...` only
                else:
                    notes.dynamic = True
        elif type(func) is cst.Attribute and func.attr.value in _DYNAMIC_METHODS:
            if type(func.value) is cst.Name and func.value.value == "self" and not only_inspects(node, self.ctx.ancestors):
                notes.dynamic = True
        if type(func) is cst.Attribute:
            if _is_super(func.value):
                notes.inherits = True  # `super().forward(x)`: code the run may not see
            elif type(func.value) is cst.Name and func.value.value == "self":
                notes.calls.add(func.attr.value)


class _Summariser:
    def __init__(self, ctx: FileContext, collector: SummaryCollector) -> None:
        self.ctx = ctx
        self.facts = ctx.facts
        self.collector = collector
        self.places = Places(ctx.path, collector.numbering)
        self.identity = identify(ctx.path)
        self.module = self.identity.module
        self.is_package = os.path.basename(ctx.path) == "__init__.py"
        self._prefixes: dict[str, str] = {}  # an imported top module -> what roots it
        self.functions = {s.name.value for s in ctx.module.body if type(s) is cst.FunctionDef}

    # Names.

    def absolute(self, name: Optional[str]) -> Optional[str]:
        """A qualified name with relative imports made absolute, rooted (see
        ``project.identity``) where it names a module of this file's package or root."""
        if name is None:
            return None
        if not name.startswith("."):
            if not _may_be_project_class(name):
                return name
            top = name.split(".", 1)[0]
            prefix = self._prefixes.get(top)
            if prefix is None:
                prefix = self._prefixes[top] = self.identity.prefix(top)
            return prefix + name
        level = len(name) - len(name.lstrip("."))
        package = self.module.split(".")
        if not self.is_package:
            package = package[:-1]
        if level > 1:
            package = package[: max(1, len(package) - (level - 1))]  # (never above the root)
        rest = name.lstrip(".")
        return ".".join([*package, rest]) if rest else ".".join(package)

    def qualify(self, expr: cst.BaseExpression) -> Optional[str]:
        qualname = self.facts.imports.qualify(expr, torch_api.KNOWN_NAMES)
        if qualname is not None:
            return self.absolute(qualname)
        if type(expr) is cst.Name and (expr.value in self.facts.classes_by_name or expr.value in self.functions):
            return f"{self.module}.{expr.value}"
        return None

    # Rates and layers.

    def rate(self, expr: cst.BaseExpression, scope: Scope) -> Rate:
        function = scope.function
        in_init = function is not None and function.node.name.value == "__init__"
        # Lightning's `self.hparams.drop` after `save_hyperparameters()` is `__init__`'s `drop`.
        saved = _hyperparameter(expr) if in_init else None
        name = cst.Name(saved) if saved is not None else expr
        resolved = self.ctx.constants.number(name, scope)
        param = owner = config = key = None
        # Only __init__'s parameters are what an instantiation passes.
        if function is not None and in_init:
            # `self.p`, and a setting whose value this file shows, are no setting of a parameter.
            setting = _setting(name) if resolved is None else None
            holder = setting[0] if setting is not None else name
            if setting is not None and type(holder) is cst.Name and holder.value == function.self_name:
                holder = name
                setting = None
            if type(holder) is cst.Name and holder.value in function.params and not function.bindings.get(holder.value):
                if setting is None:
                    param = holder.value
                else:
                    config, key = holder.value, setting[1]
                owner = None if scope.cls is None else f"{self.module}.{scope.cls.name}"
        return Rate(
            text=self.ctx.text(expr),
            place=self.places.of(expr),
            value=None if resolved is None else float(resolved.value),
            origin=None if resolved is None else resolved.origin,
            param=param,
            owner=owner,
            config=config,
            key=key,
        )

    def rate_of_call(self, call: cst.Call, scope: Scope) -> Optional[Rate]:
        found = self.ctx.rate_argument(call)
        return None if found is None else self.rate(found[1], scope)

    def layer(self, expr: cst.BaseExpression, scope: Scope, depth: int = 0) -> Optional[Layer]:
        """The layer an expression builds, if it is a call to a class."""
        if type(expr) is cst.IfExp and _is_none(expr.orelse) and depth <= 8:
            # `Drop(p) if p is not None else None`: the layer, or nothing to apply.
            return self.layer(expr.body, scope, depth + 1)
        if type(expr) is not cst.Call or depth > 8:
            return None
        func = expr.func
        made = self.factory_made(expr, scope)
        if made is not None:
            return Layer(self.ctx.text(func), self.places.of(expr), type=made)
        dimension = self.factory_dimension(expr, scope)
        if dimension is not None:
            return Layer(self.ctx.text(func), self.places.of(expr), dimension=dimension)
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        qualname = self.qualify(func)
        name = self.ctx.text(func)
        place = self.places.of(expr)
        layer_type = module_layer(qualname) if qualname else None
        if layer_type is None:
            short = last_identifier(func) or ""
            if not short[:1].isupper():
                return None
            return Layer(name, place, target=qualname)
        # Dropout layers, and LSTM/MultiheadAttention/Transformer layers with a dropout inside.
        rate = self.rate_of_call(expr, scope)
        children: tuple[Layer, ...] = ()
        given = False
        if layer_type.kind in ("sequential", "module_list", "module_dict"):
            children = self.children(expr, scope, depth)
            params = scope.function.params if scope.function is not None else {}
            given = any(type(arg.value) is cst.Name and arg.value.value in params for arg in expr.args)
        return Layer(name, place, type=layer_type, rate=rate, children=children, given=given)

    def factory_made(self, call: cst.Call, scope: Scope) -> Optional[LayerType]:
        """The layer a factory with a dimension argument builds: ``Dropout[Dropout.DROPOUT,
        3](p)`` (also through a local, ``drop = Dropout[...]; drop(p)``) or
        ``get_dropout_layer(name, dropout_dim=2)``, when the dimension is a number."""
        entry = self.factory_entry(call, scope)
        if entry is None:
            return None
        table, kind, dims = entry
        number = literal_number(dims) if dims is not None else None
        return factory_layer(table, kind, number) if type(number) is int else None

    def factory_dimension(self, call: cst.Call, scope: Scope) -> Optional[Dimension]:
        """A factory's layer whose dimension is an ``__init__`` parameter:
        ``Dropout[Dropout.DROPOUT, dropout_dim](p)``, ``Conv[Conv.CONV, spatial_dims](...)``."""
        entry = self.factory_entry(call, scope)
        if entry is None or entry[2] is None or type(entry[2]) is not cst.Name:
            return None
        kind = factory_kind(entry[0], entry[1])
        dims = self.rate(entry[2], scope)
        return Dimension(kind, dims) if kind is not None and dims.param is not None else None

    def factory_entry(
        self, call: cst.Call, scope: Scope
    ) -> Optional[tuple[str, Optional[str], Optional[cst.BaseExpression]]]:
        """The table (``Dropout``), the entry (``DROPOUT``, None when chosen at run time)
        and the dimension as written (the keyword's default written as a number) of a
        call of a layer factory."""
        func: cst.BaseExpression = call.func
        if type(func) is cst.Name and scope.function is not None and func.value not in scope.function.params:
            bindings = scope.function.bindings.get(func.value, [])
            if len(bindings) == 1 and type(bindings[0].value) is cst.Subscript and not bindings[0].guards:
                func = bindings[0].value
        if type(func) is cst.Subscript:
            # (Plain names: in MONAI's own files its tables are names of the run.)
            table = self.qualify(func.value) if isinstance(func.value, (cst.Name, cst.Attribute)) else None
            table = plain(table) if table is not None else None
            if table is None or not is_layer_factory(table) or len(func.slice) != 2:
                return None
            entries = [element.slice.value if type(element.slice) is cst.Index else None for element in func.slice]
            return table.rsplit(".", 1)[1], _entry_name(entries[0]), entries[1]
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        qualname = self.qualify(func)
        if qualname is None or not is_layer_factory(plain(qualname)):
            return None
        short = qualname.rsplit(".", 1)[1]
        if short not in FACTORY_FUNCTIONS:
            return None
        table, kind, keyword, default = FACTORY_FUNCTIONS[short]
        found = find_arg(call, torch_api.Param(keyword, None))
        dims = cst.Integer(str(default)) if found.missing else found.value
        if kind is None:
            name = find_arg(call, torch_api.Param("name", 0)).value
            if type(name) is cst.Tuple and name.elements:
                name = name.elements[0].value
            kind = _entry_name(name) if name is not None else None
        return table, kind, dims

    def children(self, call: cst.Call, scope: Scope, depth: int) -> tuple[Layer, ...]:
        """The layers of ``nn.Sequential(...)``/``nn.ModuleList([...])``, in order; empty
        when they cannot be listed (a loop builds them, an unknown list is unpacked)."""
        elements: list[cst.BaseExpression] = []
        for arg in call.args:
            if arg.keyword is not None:
                return ()
            if arg.star == "*":
                listed = self.listed(arg.value, scope)
                if listed is None:
                    return ()
                elements.extend(listed)
            elif isinstance(arg.value, (cst.List, cst.Tuple)):
                elements.extend(e.value for e in arg.value.elements)
            elif type(arg.value) is cst.Call and _is_ordered_dict(arg.value):
                elements.extend(_ordered_dict_values(arg.value))
            else:
                elements.append(arg.value)
        out = []
        for element in elements:
            layer = self.layer(element, scope, depth + 1)
            if layer is None:
                return ()
            out.append(layer)
        return tuple(out)

    def listed(self, expr: cst.BaseExpression, scope: Scope) -> Optional[list[cst.BaseExpression]]:
        """The elements of a local list built in straight-line code:
        ``layers = [a, b]; layers.append(c); layers += [d]``."""
        if isinstance(expr, (cst.List, cst.Tuple)):
            return [e.value for e in expr.elements]
        if type(expr) is not cst.Name or scope.function is None:
            return None
        bindings = scope.function.bindings.get(expr.value, [])
        if len(bindings) != 1 or type(bindings[0].value) is not cst.List or bindings[0].guards:
            return None
        items = [e.value for e in bindings[0].value.elements]
        for stmt in function_body(scope.function.node):
            if type(stmt) is not cst.SimpleStatementLine:
                if _mentions_name(stmt, expr.value):
                    return None  # changed inside a loop or branch: order unknown
                continue
            for small in stmt.body:
                added = _list_growth(small, expr.value)
                if added is not None:
                    items.extend(added)
        return items

    # Classes.

    def class_summary(self, info: ClassInfo) -> ClassSummary:
        """Every class: the mode analysis follows trainers and evaluators too. Layers and
        ``forward`` are read for classes that may be torch modules."""
        status = self.facts.module_status(info)
        qualname = f"{self.module}.{info.name}"
        init = info.methods.get("__init__")
        init_info = self.facts.function(init) if init is not None else None
        params = self.params(init_info, info)
        settings = self.settings(info, params) if status is not True else ()
        layers = self.layers(info) if status is not False else ()
        forward = info.methods.get("forward") if status is not False else None
        flow = self.flow(forward, info) if forward is not None else None
        notes = self.collector.classes.get(id(info.node), _ClassNotes())
        methods = tuple(self.function_summary(m, f"{qualname}.{name}") for name, m in info.methods.items())
        return ClassSummary(
            qualname=qualname,
            name=info.name,
            place=self.places.of(info.node.name),
            bases=tuple(self.qualify(_unsubscripted(arg.value)) for arg in info.node.bases),
            module=True if self.facts.is_module_class(info) else status,
            params=params,
            layers=layers,
            forward=flow,
            methods=methods,
            references=frozenset(notes.references),
            modules=frozenset(notes.modules),
            calls=frozenset(notes.calls),
            reaches=frozenset(notes.reaches),
            prefixes=frozenset(notes.prefixes),
            inherits=notes.inherits,
            dynamic=notes.dynamic,
            selu=notes.selu,
            alpha=tuple(self.places.of(call) for call in notes.alpha),
            constructed=self.constructed(info) if status is not False else (),
            ignored=self.ignored(info, init) if init is not None and status is not False else (),
            helper_calls=tuple(self.helper_calls(notes)) if status is not False else (),
            config_class=self.config_class(info) if status is not False else None,
            settings=settings,
        )

    def helper_calls(self, notes: _ClassNotes) -> Iterator[HelperCall]:
        """The calls of functions that may be the run's, by name or stored by ``__init__``."""
        for call, stored, fixed, self_name in notes.helper_calls:
            function = call.func if stored is None else stored.func if type(stored) is cst.Call else stored
            target = self.qualify(function)
            if target is None or not _may_be_project_class(target):
                continue
            yield HelperCall(
                callee=self.ctx.text(call.func),
                target=target,
                made=type(stored) is cst.Call,
                stored=self.ctx.text(stored) if stored is not None else None,
                self_name=self_name,
                place=self.places.of(call),
                fixed=tuple(
                    Argument(
                        keyword=arg.keyword.value if arg.keyword is not None else None,
                        position=position,
                        text=self.ctx.text(arg.value),
                        place=self.places.of(arg.value),
                    )
                    for arg, position in fixed
                ),
            )

    def ignored(self, info: ClassInfo, init: cst.FunctionDef) -> tuple[IgnoredArgument, ...]:
        """The dropout settings ``__init__`` takes and does not read (see ``init_params``)."""
        docstrings = [text for text in (info.node.get_docstring(), init.get_docstring()) if text]
        found = dropout_arguments(init, docstrings)
        keeping = {Keeper.HPARAMS: "hparams", Keeper.DECORATOR: "config"}.get(found.keeper)
        if keeping is not None and _reads_whole(info.node, keeping):
            return ()  # `Net(**self.hparams)`, `Block(self.config)`: every saved argument may be read
        out = []
        for argument in found.arguments:
            if argument.fate is Fate.STORED:
                out.append(
                    IgnoredArgument(
                        argument.name,
                        self.places.of(argument.stores[0][1]),
                        stored=tuple(dict.fromkeys(attr for attr, _ in argument.stores)),
                        kept=found.keeper is not Keeper.NONE,
                    )
                )
            elif argument.fate is Fate.UNREAD:
                literal = argument.literal
                out.append(
                    IgnoredArgument(
                        argument.name,
                        self.places.of(argument.param.name),
                        literal=self.places.of(literal) if literal is not None else None,
                        literal_text=self.ctx.text(literal).rstrip(", ") if literal is not None else None,
                        kept=found.keeper is not Keeper.NONE,
                    )
                )
        return tuple(out)

    def constructed(self, info: ClassInfo) -> tuple[Layer, ...]:
        """The layers the class's methods build (``self.blocks.append(nn.Sequential(...))``
        too), to tell whether the module has dropout or batch norm anywhere."""
        out = []
        for construction in self.collector.constructions:
            if construction.cls is info and construction.method is not None:
                scope = Scope(self.facts.function(construction.method), info)
                layer = self.layer(construction.call, scope)
                if layer is not None:
                    out.append(layer)
        return tuple(out)

    def params(self, init: Optional[FunctionInfo], cls: ClassInfo) -> tuple[Param, ...]:
        if init is None:
            return ()
        p = init.node.params
        positional = [*p.posonly_params, *p.params][1:]
        out = []
        for index, param in enumerate(positional):
            out.append(Param(param.name.value, index, self.default(param), self.annotation(param.annotation)))
        for param in p.kwonly_params:
            out.append(Param(param.name.value, None, self.default(param), self.annotation(param.annotation)))
        return tuple(out)

    def annotation(self, annotation: Optional[cst.Annotation]) -> Optional[str]:
        """The class a parameter or field is annotated with, when it names one alone."""
        if annotation is None:
            return None
        value = annotation.annotation
        if type(value) is cst.SimpleString and isinstance(value.evaluated_value, str):
            return None  # a forward reference: not followed
        return self.qualify(value) if isinstance(value, (cst.Name, cst.Attribute)) else None

    def config_class(self, info: ClassInfo) -> Optional[str]:
        """The settings class a model class declares: ``config_class = BertConfig`` or
        ``config: BertConfig`` (Hugging Face's pretrained bases)."""
        for stmt in info.node.body.body if type(info.node.body) is cst.IndentedBlock else ():
            if type(stmt) is not cst.SimpleStatementLine:
                continue
            for small in stmt.body:
                if type(small) is cst.Assign and len(small.targets) == 1:
                    target = small.targets[0].target
                    if type(target) is cst.Name and target.value == "config_class":
                        if isinstance(small.value, (cst.Name, cst.Attribute)):
                            return self.qualify(small.value)
                elif type(small) is cst.AnnAssign and small.value is None:
                    if type(small.target) is cst.Name and small.target.value == "config":
                        return self.annotation(small.annotation)
        return None

    def settings(self, info: ClassInfo, params: tuple[Param, ...]) -> tuple[tuple[str, float], ...]:
        """The numbers a settings class's attributes default to: class-level fields
        written once (``hidden_dropout_prob: float = 0.0``, a dataclass's), and ``__init__``
        parameters that ``__init__`` keeps under their own name (``self.p = p``)."""
        out: dict[str, float] = {}
        for name, values in info.class_attrs.items():
            number = literal_number(values[0]) if len(values) == 1 and values[0] is not None else None
            if number is not None:
                out[name] = float(number)
        for param in params:
            default = param.default.value if param.default is not None else None
            bindings = info.self_bindings.get(param.name, [])
            if default is None or len(bindings) != 1:
                continue
            binding = bindings[0]
            if binding.method is info.methods.get("__init__") and not binding.guards:
                if type(binding.value) is cst.Name and binding.value.value == param.name:
                    out[param.name] = default
        return tuple(out.items())

    def default(self, param: cst.Param) -> Optional[Rate]:
        if param.default is None:
            return None
        return self.rate(param.default, Scope())

    def layers(self, info: ClassInfo) -> tuple[tuple[str, Layer], ...]:
        out: list[tuple[str, Layer]] = []
        for attr, bindings in info.self_bindings.items():
            for binding in bindings:
                if binding.value is None or binding.method is None:
                    continue
                scope = Scope(self.facts.function(binding.method), info)
                layer = self.layer(binding.value, scope)
                if layer is not None:
                    out.append((attr, layer))
        for method in info.methods.values():
            scope = Scope(self.facts.function(method), info)
            for stmt in iter_statements(function_body(method)):
                if type(stmt) is cst.Expr and type(stmt.value) is cst.Call:
                    registered = _registered_module(stmt.value, scope.function.self_name if scope.function else "self")
                    if registered is not None:
                        layer = self.layer(registered[1], scope)
                        if layer is not None:
                            out.append((registered[0], layer))
        return tuple(out)

    def flow(self, forward: cst.FunctionDef, info: ClassInfo) -> Flow:
        scope = Scope(self.facts.function(forward), info)
        helpers = {
            name: method
            for name, method in info.methods.items()
            if name != "forward" and name not in info.self_bindings and not method.decorators
        }
        builder = FlowBuilder(forward, self.places, self.qualify, lambda call: self.rate_of_call(call, scope), helpers)
        return builder.build()

    # Functions.

    def function_summary(self, func: cst.FunctionDef, qualname: str) -> FunctionSummary:
        """Only functions that make random draws (and ``forward``, whose helpers may) are
        looked at closely: the others cannot drop anything at random."""
        params = tuple(self.facts.function(func).params)
        drops: tuple[RandomDrop, ...] = ()
        if id(func) in self.collector.drawing:
            drops = random_drops(func, self.qualify, self.places, self.ctx.text)
        mode = False
        if drops or func.name.value == "forward":
            mode = mentions_mode(func.params) or mentions_mode(func.body)
        return FunctionSummary(
            qualname,
            params,
            mode,
            drops,
            self.returned(func),
            attention=self.attention_rates(func),
            returned_attention=self.returned_attention(func),
        )

    def attention_rates(self, func: cst.FunctionDef) -> tuple[AttentionRate, ...]:
        """The parameters the function passes to attention kernels as their rates."""
        found = self.collector.attention.get(id(func))
        if not found:
            return ()
        positional = [param.name.value for param in (*func.params.posonly_params, *func.params.params)]
        return tuple(
            AttentionRate(
                param,
                positional.index(param) if param in positional else None,
                self.ctx.text(call.func),
                self.places.of(call),
            )
            for param, call in found
        )

    def returned_attention(self, func: cst.FunctionDef) -> tuple[AttentionRate, ...]:
        """The attention rates of the function it defines and returns: ``def attend(q, k,
        v, dropout_p): ...; return attend`` (under any branches; a name also bound
        otherwise is not followed)."""
        if not self.collector.attention:
            return ()
        defined: dict[str, list[cst.FunctionDef]] = {}
        returned: set[str] = set()
        for stmt in iter_statements(function_body(func)):
            if type(stmt) is cst.FunctionDef:
                defined.setdefault(stmt.name.value, []).append(stmt)
            elif type(stmt) is cst.Return and type(stmt.value) is cst.Name:
                returned.add(stmt.value.value)
        bindings = self.facts.function(func).bindings
        out: list[AttentionRate] = []
        for name in sorted(returned & set(defined)):
            if all(binding.value is None for binding in bindings.get(name, ())):
                for nested in defined[name]:
                    out.extend(self.attention_rates(nested))
        return tuple(out)

    def returned(self, func: cst.FunctionDef) -> tuple[str, ...]:
        """What a function returns a fresh instance of: ``return Net(...)``, or
        ``model = Net(...); ...; return model`` (a factory of models or blocks)."""
        bindings = self.facts.function(func).bindings
        out: list[str] = []
        for stmt in iter_statements(function_body(func)):
            if type(stmt) is not cst.Return or stmt.value is None:
                continue
            values: list[Optional[cst.BaseExpression]] = [stmt.value]
            if type(stmt.value) is cst.Name:
                values = [b.value for b in bindings.get(stmt.value.value, [])]
            for value in values:
                if type(value) is cst.Call and isinstance(value.func, (cst.Name, cst.Attribute)):
                    target = self.qualify(value.func)
                    if target is not None and _may_be_project_class(target):
                        out.append(target)
        return tuple(dict.fromkeys(out))

    # Instantiations.

    def instantiations(self) -> Iterator[Instantiation]:
        yield from self.factory_instantiations()
        in_tests = _is_test_path(self.ctx.path)
        scopes: dict[int, _Uses] = {}
        for construction in self.collector.constructions:
            call, cls, method, function = construction.call, construction.cls, construction.method, construction.function
            target = self.qualify(call.func)
            if target is None or not _may_be_project_class(target):
                if target != "torch.nn.Sequential":
                    continue
            owner = None
            if cls is not None and method is not None and self.facts.module_status(cls) is not False:
                owner = f"{self.module}.{cls.name}"
            fn_info = self.facts.function(function) if function is not None else None
            scope = Scope(fn_info, cls if method is function else None)
            layer = self.layer(call, scope) if target == "torch.nn.Sequential" else None
            if target == "torch.nn.Sequential" and owner is not None:
                continue  # a submodule's Sequential: its class's layers hold it
            root = False
            if owner is None and not in_tests:
                holder = function if function is not None else (cls.node if cls is not None else self.ctx.module)
                uses = scopes.get(id(holder))
                if uses is None:
                    uses = scopes[id(holder)] = _Uses(holder)
                root = uses.is_model(construction)
            yield Instantiation(
                target=target,
                place=self.places.of(call),
                owner=owner,
                args=tuple(self.arguments(call, scope)),
                star=any(arg.star for arg in call.args),
                root=root,
                layer=layer,
            )

    def factory_instantiations(self) -> Iterator[Instantiation]:
        """Calls in a module's methods to functions that may build its parts
        (``self.embed = make_embedding(...)``): the index follows what they return. A
        class with a lower-case name (``mLSTMCell(size, dropout)``) is built this way too,
        so the arguments are kept."""
        for call, cls, function, method in self.collector.factory_calls:
            if self.facts.module_status(cls) is False:
                continue
            target = self.qualify(call.func) if isinstance(call.func, (cst.Name, cst.Attribute)) else None
            if target is None or not _may_be_project_class(target) or target.startswith("builtins"):
                continue
            fn_info = self.facts.function(function) if function is not None else None
            scope = Scope(fn_info, cls if method is function else None)
            yield Instantiation(
                target=target,
                place=self.places.of(call),
                owner=f"{self.module}.{cls.name}",
                args=tuple(self.arguments(call, scope)),
                star=any(arg.star for arg in call.args),
                root=False,
            )

    def arguments(self, call: cst.Call, scope: Scope) -> Iterator[Argument]:
        position = 0
        for arg in call.args:
            if arg.star:
                continue
            rate = self.rate(arg.value, scope)
            keyword = arg.keyword.value if arg.keyword is not None else None
            entries = known_entries(arg.value, self.name_scope(scope)) if _may_be_dict(arg.value) else None
            yield Argument(
                keyword=keyword,
                position=None if keyword is not None else position,
                text=rate.text,
                place=rate.place,
                value=rate.value,
                origin=rate.origin,
                param=rate.param,
                config=rate.config,
                key=rate.key,
                entries=None if entries is None else tuple(entries.items()),
            )
            if keyword is None:
                position += 1

    def name_scope(self, scope: Scope) -> NameScope:
        """Where a name an instantiation passes is bound and changed: its function (or,
        for a name the function does not bind, the module too), or the module."""
        function = scope.function
        module_body = self.ctx.module.body

        def module_values(name: str) -> Optional[list[Optional[cst.BaseExpression]]]:
            return None if name in self.facts.global_names else self.facts.constants.get(name)

        def number(expr: cst.BaseExpression) -> Optional[float]:
            resolved = self.ctx.constants.number(expr, scope)
            return None if resolved is None else float(resolved.value)

        if function is None:
            return NameScope((module_body,), module_values, number)
        info = function

        def values(name: str) -> Optional[list[Optional[cst.BaseExpression]]]:
            if name in info.params:
                return None
            bound = info.bindings.get(name)
            return [binding.value for binding in bound] if bound else module_values(name)

        return NameScope((function_body(info.node), module_body), values, number)

    def summary(self) -> FileSummary:
        classes = [self.class_summary(info) for info in self.facts.classes.values()]
        functions = [
            self.function_summary(stmt, f"{self.module}.{stmt.name.value}")
            for stmt in self.ctx.module.body
            if type(stmt) is cst.FunctionDef
        ]
        instantiations = list(self.instantiations())
        modes = self.mode_functions()
        imports = tuple(
            (local, absolute)
            for local, target in self.facts.imports.aliases.items()
            if (absolute := self.absolute(target)) is not None
        )
        stars = tuple(absolute for star in self.facts.imports.star_modules if (absolute := self.absolute(star)) is not None)
        return share_strings(
            FileSummary(
                path=self.ctx.path,
                module=self.module,
                imports=imports,
                stars=stars,
                classes=tuple(classes),
                functions=tuple(functions),
                instantiations=tuple(instantiations),
                modes=tuple(modes),
                flag_uses=tuple(
                    FlagUse(flag, kind, owner, self.places.of(call), self.ctx.text(call.func))
                    for flag, kind, owner, call in self.collector.flag_uses
                ),
                switched=frozenset(
                    {*self.collector.switched, *self.facts.global_names}
                    | {name for name, values in self.facts.constants.items() if len(values) > 1}
                ),
            )
        )

    def mode_functions(self) -> list[ModeFunction]:
        """The events of every function, method and the top-level code, for the
        train/eval mode analysis."""
        # A training step (`loss.backward()`, `optimizer.step()`) puts every function
        # around it in the collector's `switching`.
        builder = EventBuilder(
            self.places,
            self.qualify,
            self.ctx.text,
            self.ctx.config.evaluation_functions,
            stepping=self.collector.switching,
        )
        found: list[tuple[ModeFunction, Optional[cst.FunctionDef]]] = [
            (builder.module(self.ctx.module, f"{self.module}.<module>"), None)
        ]
        for stmt in self.ctx.module.body:
            if type(stmt) is cst.FunctionDef:
                found.append((builder.function(stmt, f"{self.module}.{stmt.name.value}", None), stmt))
        for info in self.facts.classes.values():
            qualname = f"{self.module}.{info.name}"
            layers = frozenset(info.self_bindings)
            module = self.facts.is_module_class(info)
            for name, method in info.methods.items():
                if module and name != "__call__" and id(method) not in self.collector.switching:
                    continue  # a layer's own code: models do not evaluate or train themselves
                function = builder.function(method, f"{qualname}.{name}", qualname)
                found.append((replace(function, events=prune(function.events, layers)), method))
        # Functions that do nothing to any mode are left out: the analysis treats a call
        # to a function of the run without events as one that changes nothing.
        defined = {
            stmt.name.value for stmt in self.ctx.module.body if isinstance(stmt, (cst.FunctionDef, cst.ClassDef))
        }
        names = frozenset(self.facts.constants) - defined
        out = []
        for function, node in found:
            if not active(function.events):
                continue
            shared = names - local_names(node) if node is not None else frozenset()
            out.append(replace(function, module=self.module, globals=shared).pack())
        return out


class _Uses:
    """How names are used in one scope (a function, a class, or the module)."""

    def __init__(self, scope: cst.CSTNode) -> None:
        self.evidence: set[str] = set()
        self.parents: dict[int, cst.CSTNode] = {}
        for node in iter_nodes(scope):
            if type(node) is cst.Call:
                self._note(node)

    def _note(self, call: cst.Call) -> None:
        func = call.func
        if type(func) is cst.Attribute and func.attr.value in _MODEL_METHODS:
            receiver = dotted_name(func.value)
            if receiver is not None:
                self.evidence.add(receiver)
            elif type(func.value) is cst.Call:
                self.evidence.add(f"call@{id(func.value)}")
        callee = dotted_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        if callee is not None and _MODEL_CONSUMERS.search(callee.rsplit(".", 1)[-1]):
            for arg in call.args:
                name = dotted_name(arg.value)
                if name is not None:
                    self.evidence.add(name)
                elif type(arg.value) is cst.Call:
                    self.evidence.add(f"call@{id(arg.value)}")

    def is_model(self, construction: _Construction) -> bool:
        if f"call@{id(construction.call)}" in self.evidence:
            return True
        return any(name in self.evidence for name in construction.bound_names())


def _stored_function(bindings: Sequence[Binding]) -> Optional[cst.BaseExpression]:
    """What ``__init__`` stores in an attribute that no other assignment changes, when it
    may be a function or the function a factory returns (``attention``, ``make_attention()``;
    not a class being built, ``Attention(...)``, nor a method of the instance)."""
    if len(bindings) != 1:
        return None
    binding = bindings[0]
    if binding.method is None or binding.method.name.value != "__init__" or binding.guards:
        return None
    value = binding.value
    function = value.func if type(value) is cst.Call else value
    if value is None or not isinstance(function, (cst.Name, cst.Attribute)):
        return None
    if (last_identifier(function) or "")[:1].isupper() or _is_self_rooted(function):
        return None
    return value


def _is_self_rooted(expr: cst.BaseExpression) -> bool:
    while type(expr) is cst.Attribute:
        expr = expr.value
    return type(expr) is cst.Name and expr.value == "self"


def _reads_training(expr: cst.CSTNode) -> bool:
    """Whether an expression reads some module's real ``training`` flag."""
    return any(type(n) is cst.Attribute and n.attr.value == "training" for n in iter_nodes(expr))


def _is_test_path(path: str) -> bool:
    """Test code builds blocks on their own and calls ``.eval()`` on them: what it does
    with an instance is no evidence of a model being trained."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    return (
        any(part in ("tests", "test", "testing") for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _may_be_project_class(target: str) -> bool:
    """Whether a qualified name can be a class of the linted project (not torch, not
    the standard library): the index decides later whether it is one."""
    top = target.split(".", 1)[0]
    return top not in _EXTERNAL_TOPS and target not in ("builtins",)


_EXTERNAL_TOPS = frozenset(
    {
        "torch", "numpy", "np", "typing", "collections", "dataclasses", "enum", "abc", "os", "sys",
        "re", "math", "functools", "itertools", "pathlib", "logging", "warnings", "json", "copy",
    }
)


def _registered_module(call: cst.Call, self_name: Optional[str]) -> Optional[tuple[str, cst.BaseExpression]]:
    """``self.add_module("drop", nn.Dropout(p))`` / ``setattr(self, "drop", ...)``; not
    ``self.output.add_module("drop", ...)``, which registers into a part."""
    func = call.func
    args = [a.value for a in call.args]

    def is_self(expr: cst.BaseExpression) -> bool:
        return type(expr) is cst.Name and expr.value == self_name

    if type(func) is cst.Attribute and func.attr.value in ("add_module", "register_module") and len(args) >= 2:
        if not is_self(func.value):
            return None
        name = args[0]
        value = args[1]
    elif type(func) is cst.Name and func.value == "setattr" and len(args) >= 3 and is_self(args[0]):
        name = args[1]
        value = args[2]
    else:
        return None
    if type(name) is cst.SimpleString:
        return name.evaluated_value if isinstance(name.evaluated_value, str) else None, value  # type: ignore[return-value]
    return None


def _is_ordered_dict(call: cst.Call) -> bool:
    return isinstance(call.func, (cst.Name, cst.Attribute)) and last_identifier(call.func) == "OrderedDict"


def _ordered_dict_values(call: cst.Call) -> list[cst.BaseExpression]:
    if not call.args or not isinstance(call.args[0].value, (cst.List, cst.Tuple)):
        return [call]
    out: list[cst.BaseExpression] = []
    for element in call.args[0].value.elements:
        pair = element.value
        if type(pair) is cst.Tuple and len(pair.elements) == 2:
            out.append(pair.elements[1].value)
        else:
            return [call]
    return out


def _list_growth(small: cst.BaseSmallStatement, name: str) -> Optional[list[cst.BaseExpression]]:
    """What ``name.append(x)``, ``name.extend([...])`` or ``name += [...]`` adds."""
    if type(small) is cst.Expr and type(small.value) is cst.Call:
        func = small.value.func
        if type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == name:
            args = small.value.args
            if func.attr.value == "append" and len(args) == 1:
                return [args[0].value]
            if func.attr.value == "extend" and len(args) == 1 and isinstance(args[0].value, (cst.List, cst.Tuple)):
                return [e.value for e in args[0].value.elements]
    if type(small) is cst.AugAssign and type(small.target) is cst.Name and small.target.value == name:
        if isinstance(small.value, (cst.List, cst.Tuple)):
            return [e.value for e in small.value.elements]
    return None


def _mentions_name(node: cst.CSTNode, name: str) -> bool:
    return any(type(n) is cst.Name and n.value == name for n in iter_nodes(node))


def summarise(ctx: FileContext, collector: SummaryCollector) -> FileSummary:
    return _Summariser(ctx, collector).summary()


def _unsubscripted(base: cst.BaseExpression) -> cst.BaseExpression:
    """The class of a subscripted base: ``Generic[T]`` is ``Generic``, ``Base[Config]`` is ``Base``."""
    return base.value if type(base) is cst.Subscript else base


def _is_super(expr: cst.BaseExpression) -> bool:
    """``super()`` or ``super(Cls, self)``."""
    return type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "super"


def _setting(expr: cst.BaseExpression) -> Optional[tuple[cst.BaseExpression, str]]:
    """The holder and key of ``cfg["drop_rate"]`` or ``config.hidden_dropout_prob``."""
    if type(expr) is cst.Attribute:
        return expr.value, expr.attr.value
    if type(expr) is cst.Subscript and len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
        key = expr.slice[0].slice.value
        if type(key) is cst.SimpleString and isinstance(key.evaluated_value, str):
            return expr.value, key.evaluated_value
    return None


def _may_be_dict(expr: cst.BaseExpression) -> bool:
    """An argument worth reading as a dict of settings: a literal, ``dict(...)``, a name."""
    return type(expr) in (cst.Dict, cst.Name) or (type(expr) is cst.Call and type(expr.func) is cst.Name and expr.func.value == "dict")


def _hyperparameter(expr: cst.BaseExpression) -> Optional[str]:
    """``drop`` of ``self.hparams.drop`` or ``self.hparams["drop"]``."""
    if type(expr) is cst.Attribute:
        holder, name = expr.value, expr.attr.value
    elif type(expr) is cst.Subscript and len(expr.slice) == 1:
        index = expr.slice[0].slice
        key = index.value if type(index) is cst.Index else None
        if type(key) is not cst.SimpleString or not isinstance(key.evaluated_value, str):
            return None
        holder, name = expr.value, key.evaluated_value
    else:
        return None
    if type(holder) is cst.Attribute and holder.attr.value == "hparams" and type(holder.value) is cst.Name:
        return name if holder.value.value == "self" else None
    return None


def _is_none(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Name and expr.value == "None"


def _entry_name(expr: Optional[cst.BaseExpression]) -> Optional[str]:
    """``DROPOUT`` of ``Dropout.DROPOUT``, or of the string ``"dropout"``."""
    if type(expr) is cst.Attribute:
        return expr.attr.value
    if type(expr) is cst.SimpleString and isinstance(expr.evaluated_value, str):
        return expr.evaluated_value
    return None


def _reads_whole(cls: cst.ClassDef, attr: str) -> bool:
    """Whether a method uses ``self.<attr>`` other than by reading one of its names
    (``Net(**self.hparams)``, ``self.hparams["drop"]``, ``self.hparams.get(...)``)."""
    uses: list[cst.Attribute] = []
    named: set[int] = set()  # `self.hparams` nodes whose name is read: `self.hparams.drop`
    for node in iter_nodes(cls):
        if type(node) is cst.Attribute:
            if node.attr.value == attr and is_self_attribute(node) is not None:
                uses.append(node)
            else:
                named.add(id(node.value))
        elif type(node) is cst.Call and type(node.func) is cst.Attribute and is_self_attribute(node.func.value) == attr:
            return True  # `self.hparams.get("drop")`
    return any(id(use) not in named for use in uses)


def _name_prefix(expr: cst.BaseExpression) -> Optional[str]:
    """The fixed start of a name built at run time: ``conv`` of ``f"conv{i}"``,
    ``"conv" + str(i)``, ``"conv%d" % i`` or ``"conv{}".format(i)``; None if there is none."""
    text: Optional[str] = None
    if type(expr) is cst.FormattedString and expr.parts and type(expr.parts[0]) is cst.FormattedStringText:
        text = expr.parts[0].value
    elif type(expr) is cst.BinaryOperation and type(expr.left) is cst.SimpleString:
        value = expr.left.evaluated_value
        if isinstance(value, str):
            text = value.split("%", 1)[0] if type(expr.operator) is cst.Modulo else value
    elif type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "format":
        template = expr.func.value
        if type(template) is cst.SimpleString and isinstance(template.evaluated_value, str):
            text = template.evaluated_value.split("{", 1)[0]
    return text or None
