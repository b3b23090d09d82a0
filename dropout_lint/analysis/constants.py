"""Resolve simple constant values: literals, module constants, default arguments,
class attributes and attributes set once in ``__init__``, with unary minus and plain
arithmetic. Anything else is unknown (None): no finding is ever made from an unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

import libcst as cst

from dropout_lint.analysis.origins import default_origin
from dropout_lint.analysis.structure import ClassInfo, FunctionInfo, ModuleFacts
from dropout_lint.analysis.syntax import is_self_attribute
from dropout_lint.positions import locate

Number = Union[int, float]
_MAX_DEPTH = 6
@dataclass(frozen=True)
class Resolved:
    """A number and, when it did not come straight from a literal, where it came from."""

    value: Number
    origin: Optional[str] = None


@dataclass(frozen=True)
class Scope:
    function: Optional[FunctionInfo] = None
    cls: Optional[ClassInfo] = None


def literal_number(expr: cst.BaseExpression) -> Optional[Number]:
    """The value of a numeric literal, possibly with a sign; None otherwise."""
    if type(expr) is cst.Integer:
        return int(expr.evaluated_value)
    if type(expr) is cst.Float:
        return float(expr.evaluated_value)
    if type(expr) is cst.UnaryOperation and isinstance(expr.operator, (cst.Minus, cst.Plus)):
        inner = literal_number(expr.expression)
        if inner is None:
            return None
        return -inner if type(expr.operator) is cst.Minus else inner
    return None


class ConstantResolver:
    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts

    def number(self, expr: cst.BaseExpression, scope: Scope) -> Optional[Resolved]:
        return self._number(expr, scope, 0)

    def _number(self, expr: cst.BaseExpression, scope: Scope, depth: int) -> Optional[Resolved]:
        if depth > _MAX_DEPTH:
            return None
        direct = literal_number(expr)
        if direct is not None:
            return Resolved(direct)
        if type(expr) is cst.UnaryOperation and isinstance(expr.operator, (cst.Minus, cst.Plus)):
            inner = self._number(expr.expression, scope, depth + 1)
            if inner is None:
                return None
            value = -inner.value if type(expr.operator) is cst.Minus else inner.value
            return Resolved(value, inner.origin)
        if type(expr) is cst.BinaryOperation:
            return self._binary(expr, scope, depth)
        if type(expr) is cst.Name:
            return self._name(expr.value, scope, depth)
        if type(expr) is cst.Attribute:
            return self._attribute(expr, scope, depth)
        return None

    def _binary(self, expr: cst.BinaryOperation, scope: Scope, depth: int) -> Optional[Resolved]:
        left = self._number(expr.left, scope, depth + 1)
        right = self._number(expr.right, scope, depth + 1)
        if left is None or right is None:
            return None
        op = expr.operator
        a, b = left.value, right.value
        value: Number
        if type(op) is cst.Add:
            value = a + b
        elif type(op) is cst.Subtract:
            value = a - b
        elif type(op) is cst.Multiply:
            value = a * b
        elif type(op) is cst.Divide and b != 0:
            value = a / b
        else:
            return None
        return Resolved(value, left.origin or right.origin)

    def _name(self, name: str, scope: Scope, depth: int) -> Optional[Resolved]:
        function = scope.function
        if function is not None:
            bindings = function.bindings.get(name)
            param = function.params.get(name)
            if param is not None:
                if bindings or param.default is None:
                    return None
                found = self._number(param.default, Scope(), depth + 1)
                if found is None:
                    return None
                return Resolved(found.value, found.origin or default_origin(f"`{name}`"))
            if bindings is not None:
                if len(bindings) != 1 or bindings[0].value is None:
                    return None
                return self._number(bindings[0].value, scope, depth + 1)
        value = self.facts.constant(name)
        if value is None:
            return None
        found = self._number(value, Scope(), depth + 1)
        if found is None:
            return None
        return Resolved(found.value, found.origin or f"the constant `{name}`")

    def _attribute(self, expr: cst.Attribute, scope: Scope, depth: int) -> Optional[Resolved]:
        holder = expr.value
        if type(holder) is cst.Name and holder.value in self.facts.options.parsed:
            return self._option(expr.attr.value, depth)
        cls = scope.cls
        if cls is None:
            if type(expr.value) is cst.Name:
                candidates = self.facts.classes_by_name.get(expr.value.value, [])
                if len(candidates) == 1:
                    return self._class_attribute(candidates[0], expr.attr.value, depth)
            return None
        self_name = scope.function.self_name if scope.function is not None else None
        attr = is_self_attribute(expr, self_name) if self_name else None
        if attr is None:
            if type(expr.value) is cst.Name and expr.value.value == cls.name:
                return self._class_attribute(cls, expr.attr.value, depth)
            return None
        bindings = cls.self_bindings.get(attr)
        if bindings:
            if len(bindings) != 1:
                return None
            binding = bindings[0]
            if binding.value is None or binding.method is None or binding.method.name.value != "__init__":
                return None
            init = self.facts.function(binding.method)
            found = self._number(binding.value, Scope(init, cls), depth + 1)
            if found is None:
                return None
            return Resolved(found.value, found.origin or f"`self.{attr}` as set in `__init__`")
        return self._class_attribute(cls, attr, depth)

    def _option(self, dest: str, depth: int) -> Optional[Resolved]:
        """``args.dropout``: the default of the ``--dropout`` option, unless the user passes another."""
        option = self.facts.options.declared.get(dest)
        if option is None:
            return None
        found = self._number(option.default, Scope(), depth + 1)
        if found is None:
            return None
        line = locate(self.facts.module, [option.default]).get(id(option.default))
        where = f", line {line.line}" if line is not None else ""
        return Resolved(found.value, found.origin or default_origin(f"`{option.flag}`{where}"))

    def _class_attribute(self, cls: ClassInfo, attr: str, depth: int) -> Optional[Resolved]:
        values = cls.class_attrs.get(attr)
        if values is None or len(values) != 1 or values[0] is None:
            return None
        found = self._number(values[0], Scope(), depth + 1)
        if found is None:
            return None
        return Resolved(found.value, found.origin or f"the class attribute `{cls.name}.{attr}`")
