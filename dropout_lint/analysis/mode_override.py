"""What an override of ``nn.Module.train`` does when ``eval()`` calls it as ``train(False)``.

Each path through the override is followed with the mode parameter taken as ``False``
(a branch that needs it true is not taken) to where it returns, and the outcome says
which parts that path switches: every child (``super().train(mode)``,
``nn.Module.train(self, mode)``, a loop over ``self.children()`` that switches each), or
only the attributes named (``self.head.train(mode)``), and which children a loop over
every child passes over by name (``if name == "encoder": continue``). Anything the
analysis cannot follow (a call that may switch parts, a ``match``) counts as switching
every child: no rule reports from an unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Optional

import libcst as cst

from dropout_lint.analysis.calls import literal_bool
from dropout_lint.analysis.syntax import Statement, block_statements, children, dotted_name, iter_nodes, target_names
from dropout_lint.analysis.vocabulary import MODE_SWITCHES, MODEL_METHODS, PART_LISTS, READ_ONLY_FUNCTIONS

_MAX_PATHS = 64
_MAX_DEPTH = 16  # of `and`/`or`/`not` in a test: deeper ones are not worked out
_READS = READ_ONLY_FUNCTIONS | {"hasattr", "getattr", "setattr", "isinstance", "super", "next", "iter", "list", "dict"}
_NESTED = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


@dataclass(frozen=True)
class EvalOutcome:
    """One way ``train(False)`` can return."""

    every_child: bool  # all children switched (or something the analysis cannot follow)
    switched: frozenset[str]  # attributes of self switched by name: ``encoder`` for self.encoder
    passed_over: frozenset[str]  # children a loop over all children skipped, by name


def accepts_mode(method: cst.FunctionDef) -> bool:
    """Whether ``method(self, ...)`` can be called as ``train(False)``."""
    params = method.params
    positional = [*params.posonly_params, *params.params][1:]
    if type(params.star_arg) is cst.Param:
        return all(p.default is not None for p in positional[1:])
    return bool(positional) and all(p.default is not None for p in positional[1:])


def eval_outcomes(method: cst.FunctionDef, class_methods: dict[str, cst.FunctionDef]) -> Optional[list[EvalOutcome]]:
    """The outcomes of the paths through a ``train`` override called as ``train(False)``;
    None when there are too many paths to follow."""
    params = [*method.params.posonly_params, *method.params.params]
    if len(params) < 2:
        return None
    interpreter = _Interpreter(params[0].name.value, params[1].name.value, class_methods)
    try:
        flow = interpreter.block(block_statements(method.body), [_Path()])
    except _TooComplex:
        return None
    return [
        EvalOutcome(path.every_child, interpreter.attributes(path.switched), path.passed_over)
        for path in (*flow.normal, *flow.returned)
    ]


@dataclass(frozen=True)
class _Path:
    every_child: bool = False
    switched: frozenset[str] = frozenset()  # dotted receivers: self.encoder, module
    passed_over: frozenset[str] = frozenset()
    tests: tuple[tuple[cst.BaseExpression, bool], ...] = ()  # the branches taken, in a loop body


@dataclass
class _Flow:
    normal: list[_Path]
    returned: list[_Path]
    continued: list[_Path]
    broken: list[_Path]


class _TooComplex(Exception):
    pass


class _Interpreter:
    def __init__(self, self_name: str, mode: str, class_methods: dict[str, cst.FunctionDef]) -> None:
        self.self_name = self_name
        self.mode = mode
        self.class_methods = class_methods
        self.in_child_loop = 0  # the branches taken are kept only in a loop over the children

    def attributes(self, switched: frozenset[str]) -> frozenset[str]:
        prefix = f"{self.self_name}."
        return frozenset(name[len(prefix) :].split(".")[0] for name in switched if name.startswith(prefix))

    # Statements.

    def block(self, body: Sequence[Statement], paths: list[_Path]) -> _Flow:
        flow = _Flow([], [], [], [])
        current = paths
        for stmt in body:
            if not current:
                break
            step = self.statement(stmt, current)
            flow.returned += step.returned
            flow.continued += step.continued
            flow.broken += step.broken
            current = _dedupe(step.normal)
        flow.normal = current
        return flow

    def statement(self, stmt: Statement, paths: list[_Path]) -> _Flow:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.simple(stmt.body, paths)
        if isinstance(stmt, cst.If):
            return self.branch(stmt, paths)
        if isinstance(stmt, cst.For):
            return self.for_loop(stmt, paths)
        if isinstance(stmt, cst.While):
            return self.loop(stmt.test, stmt.body, stmt.orelse, paths)
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                paths = [self.events(item.item, p) for p in paths]
            return self.block(block_statements(stmt.body), paths)
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            return self.try_(stmt, paths)
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            return _Flow(paths, [], [], [])
        return _Flow([_everything(p) for p in paths], [], [], [])  # match and the like

    def simple(self, smalls: Sequence[cst.BaseSmallStatement], paths: list[_Path]) -> _Flow:
        flow = _Flow([], [], [], [])
        for small in smalls:
            paths = [self.small_events(small, p) for p in paths]
            kind = type(small)
            if kind is cst.Return:
                flow.returned += paths
                return flow
            if kind is cst.Raise:
                return flow  # raising is no way to return
            if kind is cst.Continue:
                flow.continued += paths
                return flow
            if kind is cst.Break:
                flow.broken += paths
                return flow
        flow.normal = paths
        return flow

    def branch(self, stmt: cst.If, paths: list[_Path]) -> _Flow:
        paths = [self.events(stmt.test, p) for p in paths]
        when_eval = self.value_in_eval(stmt.test)
        flow = _Flow([], [], [], [])
        if when_eval is not False:
            _merge(flow, self.block(block_statements(stmt.body), [self.tested(p, stmt.test, True) for p in paths]))
        if when_eval is not True:
            taken = [self.tested(p, stmt.test, False) for p in paths]
            orelse = stmt.orelse
            if type(orelse) is cst.If:
                _merge(flow, self.branch(orelse, taken))
            elif type(orelse) is cst.Else:
                _merge(flow, self.block(block_statements(orelse.body), taken))
            else:
                flow.normal += taken
        return flow

    def loop(
        self, test: Optional[cst.BaseExpression], body: cst.BaseSuite, orelse: Optional[cst.Else], paths: list[_Path]
    ) -> _Flow:
        """A loop whose body runs zero times or once, as far as switching goes."""
        if test is not None:
            paths = [self.events(test, p) for p in paths]
        inner = self.block(block_statements(body), paths)
        after = _dedupe([*paths, *inner.normal, *inner.continued])
        flow = _Flow(after, list(inner.returned), [], [])
        if orelse is not None:
            flow = _Flow([], flow.returned, [], [])
            _merge(flow, self.block(block_statements(orelse.body), after))
        flow.normal += inner.broken
        return flow

    def for_loop(self, stmt: cst.For, paths: list[_Path]) -> _Flow:
        paths = [self.events(stmt.iter, p) for p in paths]
        parts = self.iterated_parts(stmt.iter)
        names = list(target_names(stmt.target))
        if parts is None or not names:
            return self.loop(None, stmt.body, stmt.orelse, paths)
        item = names[-1]  # `for name, module in self.named_children()`: the module
        self.in_child_loop += parts == _ALL
        inner = self.block(block_statements(stmt.body), [_Path()])
        self.in_child_loop -= parts == _ALL
        exits = [*inner.normal, *inner.continued]
        switching = [p for p in exits if p.every_child or item in p.switched]
        if not switching:
            return self.loop(None, stmt.body, stmt.orelse, paths)  # a loop that switches nothing
        if parts == _ALL:
            skipped: set[str] = set()
            for path in exits:
                if path.every_child or item in path.switched:
                    continue
                named = _names_tested(path.tests, names[0]) if len(names) > 1 else None
                if not named or inner.returned or inner.broken:
                    return _Flow([_everything(p) for p in paths], [], [], [])  # who is skipped is unknown
                skipped |= named
            done = [replace(p, every_child=True, passed_over=p.passed_over | skipped) for p in paths]
        else:
            done = [replace(p, switched=p.switched | parts) for p in paths]
        if stmt.orelse is not None:
            return self.block(block_statements(stmt.orelse.body), done)
        return _Flow(done, [], [], [])

    def try_(self, stmt: cst.Try | cst.TryStar, paths: list[_Path]) -> _Flow:
        body = self.block(block_statements(stmt.body), paths)
        flow = _Flow([], body.returned, body.continued, body.broken)
        normal = body.normal
        if stmt.orelse is not None:
            orelse = self.block(block_statements(stmt.orelse.body), normal)
            _merge(flow, orelse)
        else:
            flow.normal += normal
        for handler in stmt.handlers:
            _merge(flow, self.block(block_statements(handler.body), paths))
        if stmt.finalbody is not None:
            final = self.block(block_statements(stmt.finalbody.body), flow.normal)
            flow.normal = final.normal
            flow.returned += final.returned
        return flow

    def tested(self, path: _Path, test: cst.BaseExpression, taken: bool) -> _Path:
        return replace(path, tests=(*path.tests, (test, taken))) if self.in_child_loop else path

    # Expressions.

    def small_events(self, small: cst.BaseSmallStatement, path: _Path) -> _Path:
        if type(small) is cst.Assign:
            for target in small.targets:
                receiver = _flag_receiver(target.target, small.value)
                if receiver is not None and receiver != self.self_name:
                    path = replace(path, switched=path.switched | {receiver})
        return self.events(small, path)

    def events(self, node: cst.CSTNode, path: _Path) -> _Path:
        """The path after the calls in ``node`` that switch modes."""
        stack: list[cst.CSTNode] = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, _NESTED):
                continue
            if type(current) is cst.Call:
                path = self.call(current, path)
                if path.every_child:
                    return path
            stack.extend(children(current))
        return path

    def call(self, call: cst.Call, path: _Path) -> _Path:
        func = call.func
        if type(func) is cst.Attribute:
            method = func.attr.value
            receiver = func.value
            if method in MODE_SWITCHES:
                return self.switch(method, receiver, call, path)
            if dotted_name(receiver) == self.self_name:
                return self.own_method(method, path)
            return path
        if type(func) is cst.Name and func.value not in _READS:
            for arg in call.args:
                if dotted_name(arg.value) == self.self_name:
                    return _everything(path)  # a helper given the whole module
        return path

    def switch(self, method: str, receiver: cst.BaseExpression, call: cst.Call, path: _Path) -> _Path:
        args = [arg for arg in call.args if arg.keyword is None or arg.keyword.value == "mode"]
        if type(receiver) is cst.Call and type(receiver.func) is cst.Name and receiver.func.value == "super":
            return path if method == "train" and _forced_on(args) else _everything(path)
        name = dotted_name(receiver)
        if name is None:
            return _everything(path)  # `getattr(self, part).train(mode)`, `self.layers[0].train()`
        if name == self.self_name:
            return _everything(path)
        if method == "train" and args and dotted_name(args[0].value) == self.self_name:
            # `nn.Module.train(self, mode)`, `Base.train(self, mode)`
            return path if _forced_on(args[1:]) else _everything(path)
        if method == "train" and _forced_on(args):
            return path  # put in training mode even by eval()
        return replace(path, switched=path.switched | {name})

    def own_method(self, method: str, path: _Path) -> _Path:
        """``self.<method>(...)``: a method of the class that may switch parts, or one
        defined elsewhere, is not followed."""
        if method in MODEL_METHODS and method != "apply":
            return path
        body = self.class_methods.get(method)
        if body is None or _may_switch(body):
            return _everything(path)
        return path

    def iterated_parts(self, iterable: cst.BaseExpression) -> Optional[frozenset[str]]:
        """``_ALL`` for ``self.children()`` and the like, the dotted parts of a list or
        tuple of them or of a container attribute, None for anything else."""
        if type(iterable) is cst.Call and type(iterable.func) is cst.Attribute:
            if iterable.func.attr.value in PART_LISTS and dotted_name(iterable.func.value) == self.self_name:
                return _ALL
            return None
        if isinstance(iterable, (cst.List, cst.Tuple)):
            names = [dotted_name(el.value) for el in iterable.elements]
            if names and all(n is not None and n.startswith(f"{self.self_name}.") for n in names):
                return frozenset(n for n in names if n is not None)
            return None
        name = dotted_name(iterable)
        if name is not None and name.startswith(f"{self.self_name}."):
            return frozenset({name})
        return None

    def value_in_eval(self, test: cst.BaseExpression, depth: int = 0) -> Optional[bool]:
        """The truth of ``test`` when the mode parameter is False; None when unknown."""
        if depth > _MAX_DEPTH:
            return None
        if type(test) is cst.Name and test.value == self.mode:
            return False
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            inner = self.value_in_eval(test.expression, depth + 1)
            return None if inner is None else not inner
        if type(test) is cst.BooleanOperation:
            left, right = self.value_in_eval(test.left, depth + 1), self.value_in_eval(test.right, depth + 1)
            if type(test.operator) is cst.And:
                return False if False in (left, right) else (True if left is True and right is True else None)
            return True if True in (left, right) else (False if left is False and right is False else None)
        if type(test) is cst.Comparison and len(test.comparisons) == 1:
            target = test.comparisons[0]
            if type(test.left) is cst.Name and test.left.value == self.mode:
                value = literal_bool(target.comparator)
                if value is not None and isinstance(target.operator, (cst.Is, cst.Equal)):
                    return value is False
                if value is not None and isinstance(target.operator, (cst.IsNot, cst.NotEqual)):
                    return value is True
        return None


_ALL = frozenset({"*"})


def _everything(path: _Path) -> _Path:
    return replace(path, every_child=True)


def _dedupe(paths: list[_Path]) -> list[_Path]:
    unique = list(dict.fromkeys(paths))
    if len(unique) > _MAX_PATHS:
        raise _TooComplex
    return unique


def _merge(into: _Flow, other: _Flow) -> None:
    into.normal += other.normal
    into.returned += other.returned
    into.continued += other.continued
    into.broken += other.broken


def _forced_on(args: Sequence[cst.Arg]) -> bool:
    """``train(True)``: even ``eval()`` ends in training mode."""
    return bool(args) and literal_bool(args[0].value) is True


def _flag_receiver(target: cst.BaseExpression, value: cst.BaseExpression) -> Optional[str]:
    """``module`` for ``module.training = mode`` (not for ``= True``)."""
    if type(target) is cst.Attribute and target.attr.value == "training" and literal_bool(value) is not True:
        return dotted_name(target.value)
    return None


def _may_switch(method: cst.FunctionDef) -> bool:
    """Whether a method calls a mode switch, ``apply``, or sets a ``training`` flag."""
    for node in iter_nodes(method):
        if type(node) is cst.Call and type(node.func) is cst.Attribute:
            if node.func.attr.value in MODE_SWITCHES or node.func.attr.value == "apply":
                return True
        elif type(node) is cst.Attribute and node.attr.value == "training":
            return True
    return False


def _names_tested(tests: Sequence[tuple[cst.BaseExpression, bool]], name: str) -> Optional[set[str]]:
    """The child names a loop body's path was taken for: ``name == "encoder"`` (or
    ``name in ("a", "b")``) held, or ``name != "encoder"`` failed, somewhere on it."""
    found: set[str] = set()
    for test, taken in tests:
        for operand, positive in _conjuncts(test, taken):
            found |= _compared_names(operand, name, positive)
    return found or None


def _conjuncts(test: cst.BaseExpression, taken: bool, depth: int = 0) -> Iterable[tuple[cst.BaseExpression, bool]]:
    """The comparisons known to hold (True) or fail (False) when ``test`` was ``taken``."""
    if depth > _MAX_DEPTH:
        return
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        yield from _conjuncts(test.expression, not taken, depth + 1)
    elif type(test) is cst.BooleanOperation:
        if (type(test.operator) is cst.And) == taken:  # `a and b` held, or `a or b` failed
            yield from _conjuncts(test.left, taken, depth + 1)
            yield from _conjuncts(test.right, taken, depth + 1)
    else:
        yield test, taken


def _compared_names(test: cst.BaseExpression, name: str, holds: bool) -> set[str]:
    """The names ``test`` picks out when it ``holds`` (or fails, for ``!=``/``not in``)."""
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return set()
    if type(test.left) is not cst.Name or test.left.value != name:
        return set()
    target = test.comparisons[0]
    picks = isinstance(target.operator, (cst.Equal, cst.In)) if holds else isinstance(target.operator, (cst.NotEqual, cst.NotIn))
    if not picks:
        return set()
    comparator = target.comparator
    values = [el.value for el in comparator.elements] if isinstance(comparator, (cst.Tuple, cst.List, cst.Set)) else [comparator]
    return {v.evaluated_value for v in values if type(v) is cst.SimpleString and isinstance(v.evaluated_value, str)}
