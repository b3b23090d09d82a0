"""Facts about one file's classes and functions, gathered from statements only.

Walking statements (not expressions) is cheap next to the parse, so these facts are
computed once per file, lazily, and shared by every check.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

import libcst as cst

from dropout_lint.analysis import torch_api
from dropout_lint.analysis.cli_options import Options, command_line_options
from dropout_lint.analysis.imports import ImportTable
from dropout_lint.analysis.syntax import (
    Statement,
    assignment_targets,
    block_statements,
    child_blocks,
    class_body,
    function_body,
    is_self_attribute,
    iter_statements,
)

_BUILTIN_NAMES = frozenset(dir(builtins))
# Bases that say nothing about being a module: a class with only these is not one.
_DEFINITIONS = frozenset({cst.FunctionDef, cst.ClassDef})
_NEUTRAL_PACKAGES = ("abc.", "typing.", "typing_extensions.", "enum.", "collections.", "dataclasses.")


@dataclass(frozen=True)
class Binding:
    """One assignment of a name: the value (None when not a plain value) and the tests
    of the ``if``/``while`` statements it sits under."""

    value: Optional[cst.BaseExpression]
    guards: tuple[cst.BaseExpression, ...]
    method: Optional[cst.FunctionDef] = None


@dataclass
class FunctionInfo:
    node: cst.FunctionDef
    params: dict[str, cst.Param]
    bindings: dict[str, list[Binding]]

    @property
    def self_name(self) -> Optional[str]:
        """The name of the first positional parameter (``self`` by convention)."""
        params = [*self.node.params.posonly_params, *self.node.params.params]
        return params[0].name.value if params else None


@dataclass
class ClassInfo:
    node: cst.ClassDef
    methods: dict[str, cst.FunctionDef]
    class_attrs: dict[str, list[Optional[cst.BaseExpression]]]
    self_bindings: dict[str, list[Binding]]

    @property
    def name(self) -> str:
        return self.node.name.value


def _params(func: cst.FunctionDef) -> dict[str, cst.Param]:
    p = func.params
    out: dict[str, cst.Param] = {}
    for param in [*p.posonly_params, *p.params, *p.kwonly_params]:
        out[param.name.value] = param
    for star in (p.star_arg, p.star_kwarg):
        if type(star) is cst.Param:
            out[star.name.value] = star
    return out


def _walk_guarded(
    body: Sequence[Statement], guards: tuple[cst.BaseExpression, ...] = ()
) -> Iterator[tuple[Statement, tuple[cst.BaseExpression, ...]]]:
    """Statements of a function body (not of nested definitions) with their guards."""
    for stmt in body:
        yield stmt, guards
        if type(stmt) in _DEFINITIONS:
            continue
        if type(stmt) is cst.If:
            yield from _walk_if(stmt, guards)
            continue
        inner = (*guards, stmt.test) if type(stmt) is cst.While else guards
        for block in child_blocks(stmt):
            yield from _walk_guarded(block, inner)


def _walk_if(
    stmt: cst.If, guards: tuple[cst.BaseExpression, ...]
) -> Iterator[tuple[Statement, tuple[cst.BaseExpression, ...]]]:
    inner = (*guards, stmt.test)
    yield from _walk_guarded(block_statements(stmt.body), inner)
    orelse = stmt.orelse
    if type(orelse) is cst.If:
        yield orelse, inner
        yield from _walk_if(orelse, inner)
    elif type(orelse) is cst.Else:
        yield from _walk_guarded(block_statements(orelse.body), inner)


def build_function_info(
    func: cst.FunctionDef, self_bindings: Optional[dict[str, list[Binding]]] = None
) -> FunctionInfo:
    """The function's parameters and the names it assigns. With ``self_bindings``, the
    same walk adds there the attributes it assigns on its first parameter (a method's
    ``self.<name> = ...``)."""
    bindings: dict[str, list[Binding]] = {}
    info = FunctionInfo(func, _params(func), bindings)
    self_name = info.self_name if self_bindings is not None else None
    for stmt, guards in _walk_guarded(function_body(func)):
        if type(stmt) is cst.FunctionDef or type(stmt) is cst.ClassDef:
            bindings.setdefault(stmt.name.value, []).append(Binding(None, guards))
            continue
        for target, value in assignment_targets(stmt):
            if type(target) is cst.Name:
                bindings.setdefault(target.value, []).append(Binding(value, guards))
            elif self_name is not None:
                attr = is_self_attribute(target, self_name)
                if attr is not None:
                    self_bindings.setdefault(attr, []).append(Binding(value, guards, func))  # type: ignore[union-attr]
    return info


def _build_class_info(cls: cst.ClassDef, functions: dict[int, FunctionInfo]) -> ClassInfo:
    """The class's facts; the facts of its methods go into ``functions``."""
    methods: dict[str, cst.FunctionDef] = {}
    class_attrs: dict[str, list[Optional[cst.BaseExpression]]] = {}
    self_bindings: dict[str, list[Binding]] = {}
    for stmt in class_body(cls):
        if type(stmt) is cst.FunctionDef:
            methods[stmt.name.value] = stmt
        elif type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                for target, value in assignment_targets(small):
                    if type(target) is cst.Name:
                        class_attrs.setdefault(target.value, []).append(value)
    for method in methods.values():
        functions[id(method)] = build_function_info(method, self_bindings)
    return ClassInfo(cls, methods, class_attrs, self_bindings)


class ModuleFacts:
    """Imports, constants, classes and functions of one parsed file."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.imports = ImportTable()
        self.constants: dict[str, list[Optional[cst.BaseExpression]]] = {}
        self.global_names: set[str] = set()
        self.classes: dict[int, ClassInfo] = {}
        self.classes_by_name: dict[str, list[ClassInfo]] = {}
        self._functions: dict[int, FunctionInfo] = {}
        self._is_module: dict[int, Optional[bool]] = {}
        for statement in iter_statements(module.body):
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                self.constants.setdefault(statement.name.value, []).append(None)
                continue
            for target, value in assignment_targets(statement):
                if type(target) is cst.Name:
                    self.constants.setdefault(target.value, []).append(value)
        for stmt in iter_statements(module.body, into_definitions=True):
            if type(stmt) is cst.ClassDef:
                info = _build_class_info(stmt, self._functions)
                self.classes[id(stmt)] = info
                self.classes_by_name.setdefault(info.name, []).append(info)
            elif type(stmt) is cst.Global:
                self.global_names.update(n.name.value for n in stmt.names)
            elif type(stmt) is cst.Import or type(stmt) is cst.ImportFrom:
                self.imports.add(stmt)

    @cached_property
    def options(self) -> Options:
        """The command-line options the file declares (read when a rate is looked up)."""
        return command_line_options(self.module)

    def constant(self, name: str) -> Optional[cst.BaseExpression]:
        """The value of a module-level name assigned exactly once, else None."""
        values = self.constants.get(name)
        if values is None or len(values) != 1 or name in self.global_names:
            return None
        return values[0]

    def function(self, func: cst.FunctionDef) -> FunctionInfo:
        info = self._functions.get(id(func))
        if info is None:
            info = self._functions[id(func)] = build_function_info(func)
        return info

    def class_info(self, cls: cst.ClassDef) -> ClassInfo:
        return self.classes[id(cls)]

    def is_module_class(self, info: ClassInfo) -> bool:
        """Whether the class is a torch module, as far as this file tells.

        A base from torch or a known framework decides; a base defined in this file is
        followed; a base from elsewhere (the project, another library) counts when the
        class defines ``forward``.
        """
        status = self.module_status(info)
        return status is True or (status is None and "forward" in info.methods)

    def module_status(self, info: ClassInfo) -> Optional[bool]:
        """True or False when this file decides whether the class is a torch module;
        None when that rests on a base class defined elsewhere."""
        key = id(info.node)
        if key in self._is_module:
            return self._is_module[key]
        self._is_module[key] = False  # guards against cycles in odd code
        result: Optional[bool] = False
        for arg in info.node.bases:
            status = self._base_status(arg.value)
            if status is True:
                result = True
                break
            if status is None:
                result = None
        self._is_module[key] = result
        return result

    def _base_status(self, base: cst.BaseExpression) -> Optional[bool]:
        qualname = self.imports.qualify(base)
        if qualname is not None:
            if torch_api.is_module_base(qualname):
                return True
            if qualname.startswith(("torch.", *_NEUTRAL_PACKAGES)) or "." not in qualname:
                return False
            return None
        if type(base) is cst.Name:
            local = self.classes_by_name.get(base.value)
            if local:
                if any(self.is_module_class(c) for c in local):
                    return True
                return None if any(self.module_status(c) is None for c in local) else False
            if base.value in _BUILTIN_NAMES:
                return False
        return None
