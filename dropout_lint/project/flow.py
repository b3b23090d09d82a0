"""The order of operations in ``forward``: which layer or function is applied to which
value, following tensors through assignments and nested calls.

The interpreter runs once over the body, in order. Branches are interpreted from the
same state and joined: a variable that differs between branches becomes unknown, and
operations inside a branch or loop are marked conditional. The queries (first operation
on an input, producer of the returned value, consumers of an operation) answer
"unknown" (None) wherever the flow is not understood; no rule reports from an unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Optional, Union

import libcst as cst

from dropout_lint.analysis.layers import RESHAPES, LayerType, function_layer
from dropout_lint.analysis.syntax import (
    Statement,
    block_statements,
    children,
    dotted_name,
    is_self_attribute,
    iter_nodes,
    target_names,
)
from dropout_lint.analysis.training import boolean_operands, mentions_mode
from dropout_lint.project.summary import INPUT, Flow, FlowOp, Places, Rate

Ref = Optional[int]  # an op index, INPUT - k for parameter k, None for unknown
Env = dict[str, Ref]

_INLINE_DEPTH = 3
_BUILTIN_READS = frozenset({"len", "isinstance", "print", "type", "id", "hasattr", "getattr", "repr", "str"})
_ACTIVATION_METHODS = frozenset(
    {"relu", "relu_", "sigmoid", "sigmoid_", "tanh", "tanh_", "softmax", "log_softmax", "clamp", "clamp_", "abs", "neg"}
)
# Tensor methods that read a property or make an unrelated tensor: not an operation on x.
_METADATA = frozenset(
    {
        "size", "dim", "ndimension", "numel", "nelement", "element_size", "get_device",
        "is_contiguous", "data_ptr", "new_zeros", "new_ones", "new_empty", "new_full", "new_tensor",
        "item", "tolist", "stride", "storage_offset",
    }
)
_COMBINING = frozenset({"cat", "stack", "add", "mul", "matmul", "bmm", "einsum", "where", "concat", "concatenate"})


@dataclass
class _State:
    ops: list[FlowOp] = field(default_factory=list)
    returns: list[Ref] = field(default_factory=list)


class FlowBuilder:
    """Interprets one ``forward``. ``qualify`` resolves a callee to a qualified name
    through the file's imports; ``rate_of`` describes the rate of a dropout call."""

    def __init__(
        self,
        func: cst.FunctionDef,
        places: Places,
        qualify: Callable[[cst.BaseExpression], Optional[str]],
        rate_of: Callable[[cst.Call], Optional[Rate]],
        helpers: Optional[dict[str, cst.FunctionDef]] = None,
    ) -> None:
        self.func = func
        # Methods of the class that ``forward`` calls as ``self.name(x)``: their bodies
        # are followed (``return self._forward_impl(x)``), a few calls deep.
        self.helpers = helpers or {}
        self.inlining: list[str] = []
        self.places = places
        self.qualify = qualify
        self.rate_of = rate_of
        params = [*func.params.posonly_params, *func.params.params]
        self.self_name = params[0].name.value if params else "self"
        self.params = tuple(p.name.value for p in params[1:])
        self.state = _State()
        self.loop_vars: dict[str, str] = {}  # `for blk in self.blocks` -> blk: "self.blocks[]"
        # Inside a test of the mode (`if self.training:`), or after an early exit on one:
        # what runs there knows the mode.
        self.mode_tests = 0
        self.after_mode_exit = False

    def build(self) -> Flow:
        env: Env = {name: INPUT - i for i, name in enumerate(self.params)}
        self._block(block_statements(self.func.body), env, conditional=False)
        return Flow(self.params, tuple(self.state.ops), tuple(self.state.returns))

    # Statements.

    def _block(self, body: Sequence[Statement], env: Env, conditional: bool) -> None:
        for stmt in body:
            self._statement(stmt, env, conditional)

    def _statement(self, stmt: Statement, env: Env, conditional: bool) -> None:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self._small(small, env, conditional)
        elif type(stmt) is cst.If:
            self._expr(stmt.test, env, conditional)
            tests_mode = self._tests_mode(stmt.test)
            self.mode_tests += tests_mode
            branches = [dict(env), dict(env)]
            self._block(block_statements(stmt.body), branches[0], True)
            if type(stmt.orelse) is cst.If:
                self._statement(stmt.orelse, branches[1], True)
            elif type(stmt.orelse) is cst.Else:
                self._block(block_statements(stmt.orelse.body), branches[1], True)
            self.mode_tests -= tests_mode
            if tests_mode and _exits(stmt.body):
                self.after_mode_exit = True
            self._join(env, branches)
        elif isinstance(stmt, (cst.For, cst.While)):
            self._loop(stmt, env)
        elif type(stmt) is cst.With:
            for item in stmt.items:
                self._expr(item.item, env, conditional)
            self._block(block_statements(stmt.body), env, conditional)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self._block(block_statements(stmt.body), env, conditional)
            for handler in stmt.handlers:
                self._block(block_statements(handler.body), dict(env), True)
            if stmt.orelse is not None:
                self._block(block_statements(stmt.orelse.body), env, conditional)
            if stmt.finalbody is not None:
                self._block(block_statements(stmt.finalbody.body), env, conditional)
        elif type(stmt) is cst.Match:
            branches = []
            for case in stmt.cases:
                branch = dict(env)
                self._block(block_statements(case.body), branch, True)
                branches.append(branch)
            self._join(env, branches)

    def _loop(self, stmt: Union[cst.For, cst.While], env: Env) -> None:
        if isinstance(stmt, cst.For):
            self._expr(stmt.iter, env, True)
            container = _container_of(stmt.iter, self.self_name)
            for target in target_names(stmt.target):
                if container is not None and type(stmt.target) is cst.Name:
                    self.loop_vars[target] = container
                env[target] = None
        else:
            self._expr(stmt.test, env, True)
        # Interpreted once: a variable the body changes holds the body's value after the
        # loop, and what the body applies is conditional.
        self._block(block_statements(stmt.body), env, True)
        if stmt.orelse is not None:
            self._block(block_statements(stmt.orelse.body), env, True)

    @staticmethod
    def _join(env: Env, branches: list[Env]) -> None:
        names = set().union(*branches)
        for name in names:
            values = {branch.get(name, env.get(name)) for branch in branches}
            env[name] = values.pop() if len(values) == 1 else None

    def _small(self, small: cst.BaseSmallStatement, env: Env, conditional: bool) -> None:
        if type(small) is cst.Assign:
            ref = self._expr(small.value, env, conditional)
            for target in small.targets:
                self._bind(target.target, ref, env)
        elif type(small) is cst.AnnAssign and small.value is not None:
            self._bind(small.target, self._expr(small.value, env, conditional), env)
        elif type(small) is cst.AugAssign:
            right = self._expr(small.value, env, conditional)
            if type(small.target) is cst.Name:
                left = env.get(small.target.value)
                env[small.target.value] = self._op("+", "combine", (left, right), small, conditional)
        elif type(small) is cst.Return:
            if small.value is not None:
                self.state.returns.append(self._expr(small.value, env, conditional))
        elif type(small) is cst.Expr:
            self._expr(small.value, env, conditional)

    def _bind(self, target: cst.BaseExpression, ref: Ref, env: Env) -> None:
        if type(target) is cst.Name:
            env[target.value] = ref
        elif isinstance(target, (cst.Tuple, cst.List)):
            # `out, state = self.lstm(x)`: the first element is the layer's output.
            for i, element in enumerate(target.elements):
                value = element.value
                if type(value) is cst.Name:
                    env[value.value] = ref if i == 0 else None

    # Expressions.

    def _op(
        self,
        callee: str,
        kind: str,
        inputs: tuple[Ref, ...],
        node: cst.CSTNode,
        conditional: bool,
        **extra: object,
    ) -> int:
        gated = self.mode_tests > 0 or self.after_mode_exit
        self.state.ops.append(
            FlowOp(callee, kind, inputs, self.places.of(node), conditional, gated=gated, **extra)  # type: ignore[arg-type]
        )
        return len(self.state.ops) - 1

    def _args(self, call: cst.Call, env: Env, conditional: bool) -> tuple[Ref, ...]:
        refs = []
        for arg in call.args:
            ref = self._expr(arg.value, env, conditional)
            if arg.keyword is None and arg.star == "":
                refs.append(ref)
        return tuple(refs)

    def _expr(self, expr: cst.BaseExpression, env: Env, conditional: bool) -> Ref:
        if type(expr) is cst.Name:
            return env.get(expr.value)
        if type(expr) is cst.Call:
            return self._call(expr, env, conditional)
        if type(expr) is cst.BinaryOperation:
            left = self._expr(expr.left, env, conditional)
            right = self._expr(expr.right, env, conditional)
            return self._op("+", "combine", (left, right), expr, conditional)
        if type(expr) is cst.Subscript:
            ref = self._expr(expr.value, env, conditional)
            return ref  # indexing keeps the value's origin
        if type(expr) is cst.IfExp:
            self._expr(expr.test, env, conditional)
            tests_mode = self._tests_mode(expr.test)
            self.mode_tests += tests_mode
            body = self._expr(expr.body, env, True)
            orelse = self._expr(expr.orelse, env, True)
            self.mode_tests -= tests_mode
            return body if body == orelse else None
        if isinstance(expr, (cst.Tuple, cst.List)):
            for element in expr.elements:
                self._expr(element.value, env, conditional)
            return None
        if type(expr) is cst.UnaryOperation:
            return self._expr(expr.expression, env, conditional)
        for child in _subexpressions(expr):
            self._expr(child, env, conditional)
        return None

    def _call(self, call: cst.Call, env: Env, conditional: bool) -> Ref:
        func = call.func
        attr = is_self_attribute(func, self.self_name)
        if attr is not None:
            if attr in self.helpers and attr not in self.inlining and len(self.inlining) < _INLINE_DEPTH:
                return self._inline(attr, call, env, conditional)
            return self._op(f"self.{attr}", "attr", self._args(call, env, conditional), call, conditional, attr=attr)
        if type(func) is cst.Subscript:
            attr = is_self_attribute(func.value, self.self_name)
            if attr is not None:
                inputs = self._args(call, env, conditional)
                return self._op(f"self.{attr}[]", "attr", inputs, call, conditional, attr=attr)
        if type(func) is cst.Name and func.value in self.loop_vars and func.value not in _shadowed(env, func.value):
            container = self.loop_vars[func.value]
            inputs = self._args(call, env, conditional)
            return self._op(container, "attr", inputs, call, True, attr=container[5:-2])
        if type(func) is cst.Attribute and _is_value(func.value, env):
            if func.attr.value in _METADATA:
                self._args(call, env, conditional)
                return None  # `x.size(0)` reads a property of x; no layer is applied to it
            receiver = self._expr(func.value, env, conditional)
            inputs = (receiver, *self._args(call, env, conditional))
            method = func.attr.value
            kind = LayerType("activation") if method in _ACTIVATION_METHODS else None
            return self._op(f".{method}", "method", inputs, call, conditional, reshape=method in RESHAPES, type=kind)
        if type(func) is cst.Name and func.value in _BUILTIN_READS:
            self._args(call, env, conditional)
            return None  # `len(x)` reads x; it applies nothing to it
        qualname = self.qualify(func) if isinstance(func, (cst.Name, cst.Attribute)) else None
        written = (dotted_name(func) if isinstance(func, (cst.Name, cst.Attribute)) else None) or "call"
        inputs = self._args(call, env, conditional)
        if qualname is None:
            return self._op(written, "call", inputs, call, conditional)
        layer: Optional[LayerType] = function_layer(qualname)
        short = qualname.rsplit(".", 1)[-1]
        if layer is None and qualname.startswith("torch.") and short in RESHAPES:
            return self._op(written, "function", inputs, call, conditional, reshape=True)
        if layer is None and qualname.startswith("torch.") and short in _COMBINING:
            return self._op(written, "combine", inputs, call, conditional)
        rate = self.rate_of(call) if layer is not None and layer.is_dropout else None
        return self._op(written, "function", inputs, call, conditional, type=layer, rate=rate, target=qualname)


    def _tests_mode(self, test: cst.BaseExpression) -> bool:
        """A test of the mode, or of a flag the caller passes (``if perturb:``)."""
        return mentions_mode(test) or any(
            type(operand) is cst.Name and operand.value in self.params for operand in boolean_operands(test)
        )

    def _inline(self, name: str, call: cst.Call, env: Env, conditional: bool) -> Ref:
        method = self.helpers[name]
        params = [*method.params.posonly_params, *method.params.params][1:]
        local: Env = {p.name.value: None for p in [*params, *method.params.kwonly_params]}
        position = 0
        for arg in call.args:
            ref = self._expr(arg.value, env, conditional)
            if arg.star:
                return None
            if arg.keyword is not None:
                local[arg.keyword.value] = ref
            elif position < len(params):
                local[params[position].name.value] = ref
                position += 1
        outer_returns = self.state.returns
        self.state.returns = []
        self.inlining.append(name)
        try:
            self._block(block_statements(method.body), local, conditional)
            values = set(self.state.returns)
        finally:
            self.inlining.pop()
            self.state.returns = outer_returns
        return values.pop() if len(values) == 1 else None


def _exits(body: cst.BaseSuite) -> bool:
    """Whether a block ends the function (``return x``, ``raise``)."""
    return any(isinstance(small, (cst.Return, cst.Raise)) for small in iter_nodes(body))


def _is_value(expr: cst.BaseExpression, env: Env) -> bool:
    """Whether ``expr`` is a value (``x``, ``self.fc(x)``, ``x[0]``) rather than a module
    name such as ``torch`` or ``F`` whose attribute is a function."""
    return not isinstance(expr, (cst.Name, cst.Attribute)) or (type(expr) is cst.Name and expr.value in env)


def _shadowed(env: Env, name: str) -> set[str]:
    # A loop variable re-bound to a value in the body is no longer the container element.
    return {name} if env.get(name) is not None else set()


def _container_of(expr: cst.BaseExpression, self_name: str) -> Optional[str]:
    """``self.blocks`` (or ``self.blocks.values()``, ``enumerate(self.blocks)``) -> "self.blocks[]"."""
    if type(expr) is cst.Call:
        if type(expr.func) is cst.Attribute and expr.func.attr.value in ("values", "children", "modules"):
            return _container_of(expr.func.value, self_name)
        return None
    attr = is_self_attribute(expr, self_name)
    return f"self.{attr}[]" if attr is not None else None


def _subexpressions(expr: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    for child in children(expr):
        if isinstance(child, cst.BaseExpression):
            yield child
        elif isinstance(child, (cst.Arg, cst.Element)):
            yield child.value
