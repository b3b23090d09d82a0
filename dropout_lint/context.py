"""What a check may ask about the file it is looking at."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import libcst as cst

from dropout_lint.analysis import torch_api
from dropout_lint.analysis.calls import find_arg, literal_bool
from dropout_lint.analysis.constants import ConstantResolver, Resolved, Scope
from dropout_lint.analysis.structure import ClassInfo, ModuleFacts
from dropout_lint.analysis.syntax import dotted_names, enclosing_tests, short_source
from dropout_lint.analysis.training import GatingAnalysis, guarded_by_mode, tests_caller_flag
from dropout_lint.catalog import Rule
from dropout_lint.config import Config


@dataclass(frozen=True)
class Edit:
    """A check's proposed fix: the code of ``node`` becomes ``replacement`` (a node,
    rendered with its formatting, or text)."""

    node: cst.CSTNode
    replacement: cst.CSTNode | str
    description: str
    indent: str = ""  # the indentation of the block around ``node`` (set by ``Check.report``)


Report = tuple[Rule, cst.CSTNode, str, Optional[Edit]]


class FileContext:
    """One file being linted: its tree, its facts, and where the traversal is now.

    ``ancestors`` is kept by the walker: the nodes above the one being visited.
    """

    def __init__(self, path: str, module: cst.Module, config: Config) -> None:
        self.path = path
        self.module = module
        self.config = config
        self.ancestors: list[cst.CSTNode] = []
        self.reports: list[Report] = []
        self._apis: dict[int, Optional[torch_api.DropoutApi]] = {}

    def report(self, rule: Rule, node: cst.CSTNode, message: str, fix: Optional[Edit] = None) -> None:
        self.reports.append((rule, node, message, fix))

    @cached_property
    def facts(self) -> ModuleFacts:
        return ModuleFacts(self.module)

    @cached_property
    def constants(self) -> ConstantResolver:
        return ConstantResolver(self.facts)

    @cached_property
    def gating(self) -> GatingAnalysis:
        return GatingAnalysis(self.facts)

    def api(self, call: cst.Call) -> Optional[torch_api.DropoutApi]:
        """The dropout API a call invokes, resolved through the file's imports."""
        key = id(call)
        if key not in self._apis:
            func = call.func
            kind = type(func)
            api = None
            if kind is cst.Attribute:
                named = func.attr.value in torch_api.LAST_NAMES  # type: ignore[attr-defined]
            elif kind is cst.Name:
                name = func.value  # type: ignore[attr-defined]
                named = name in torch_api.LAST_NAMES or name in self.facts.imports.aliases
            else:
                named = False
            if named:
                qualname = self.facts.imports.qualify(func, torch_api.KNOWN_NAMES)
                api = torch_api.lookup(qualname)
            self._apis[key] = api
        return self._apis[key]

    def indentation(self) -> str:
        """The indentation of the block the traversal is in."""
        default = self.module.default_indent
        return "".join(
            (node.indent if node.indent is not None else default)
            for node in self.ancestors
            if type(node) is cst.IndentedBlock
        )

    def text(self, node: cst.CSTNode, limit: int = 60) -> str:
        return short_source(self.module, node, limit)

    # Where the traversal is.

    def enclosing_function(self) -> Optional[cst.FunctionDef]:
        for node in reversed(self.ancestors):
            if type(node) is cst.FunctionDef:
                return node
        return None

    def enclosing_method(self) -> tuple[Optional[ClassInfo], Optional[cst.FunctionDef]]:
        """The nearest class and its method (the outermost function inside the class)
        that contain the current node."""
        method: Optional[cst.FunctionDef] = None
        for node in reversed(self.ancestors):
            if type(node) is cst.FunctionDef:
                method = node
            elif type(node) is cst.ClassDef:
                return self.facts.class_info(node), method
        return None, None

    def module_method(self) -> tuple[Optional[ClassInfo], Optional[cst.FunctionDef]]:
        """Like ``enclosing_method``, but only inside a class that is a torch module."""
        cls, method = self.enclosing_method()
        if cls is None or method is None or not self.facts.is_module_class(cls):
            return None, None
        return cls, method

    def scope(self) -> Scope:
        function = self.enclosing_function()
        if function is None:
            return Scope()
        cls, method = self.enclosing_method()
        info = self.facts.function(function)
        return Scope(info, cls if method is function else None)

    def resolve_number(self, expr: cst.BaseExpression) -> Optional[Resolved]:
        """The value of ``expr`` at the node being visited, or None when unknown.

        A value read through a name that an enclosing ``if`` tests is unknown: the code
        reasons about it (``if p == 1.0: skip() else: F.dropout(x, p)``).
        """
        resolved = self.constants.number(expr, self.scope())
        if resolved is None or resolved.origin is None:
            return resolved
        tests = enclosing_tests(self.ancestors, expr)
        if tests and dotted_names(expr) & set().union(*(dotted_names(t) for t in tests)):
            return None
        return resolved

    def gated(self, node: cst.CSTNode) -> bool:
        """Whether ``node`` runs only under a test of the mode (``if self.training:``,
        an early ``return`` when not training) or of a flag the caller passes in."""
        if guarded_by_mode(self.ancestors, node):
            return True
        function = self.enclosing_function()
        if function is None:
            return False
        info = self.facts.function(function)
        used = dotted_names(node)
        return any(tests_caller_flag(test, info, used) for test in enclosing_tests(self.ancestors, node))

    # Dropout calls.

    def rate_argument(self, call: cst.Call) -> Optional[tuple[torch_api.DropoutApi, cst.BaseExpression]]:
        """The dropout API of a call and the expression given as its drop probability."""
        api = self.api(call)
        if api is None:
            return None
        value = find_arg(call, api.rate).value
        if value is None:
            return None
        return api, value

    def dropout_module_attribute(self, cls: ClassInfo, attr: str) -> Optional[torch_api.DropoutApi]:
        """The dropout class of ``self.<attr>`` when every assignment of it in the class
        builds that dropout module (not in place)."""
        bindings = cls.self_bindings.get(attr)
        if not bindings:
            return None
        found: Optional[torch_api.DropoutApi] = None
        for binding in bindings:
            value = binding.value
            if type(value) is not cst.Call:
                return None
            api = self.api(value)
            if api is None or api.kind is not torch_api.ApiKind.MODULE:
                return None
            if api.inplace is not None and not find_arg(value, api.inplace).missing:
                inplace = find_arg(value, api.inplace).value
                if literal_bool(inplace) is not False:
                    return None
            found = api
        return found
