"""The mode events of a function (``modes_ir``), built from its syntax tree while its
file is parsed: the part of the mode analysis that reads libcst's nodes."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import replace
from typing import Any, Optional

import libcst as cst

from dropout_lint.analysis.syntax import (
    Statement,
    block_statements,
    children,
    dotted_name,
    identifiers,
    iter_nodes,
    iter_statements,
    last_identifier,
    push_children,
    target_names,
)
from dropout_lint.analysis.training import (
    LossFlow,
    StepUse,
    exported,
    is_training_step,
    loss_flow,
    on_noise,
    optimised_models,
    phase_flag,
    shape_only,
    training_loops,
)
from dropout_lint.analysis.vocabulary import (
    CONFIGURED_FACTORIES,
    EVALUATION_DATA,
    EXPORTED_RESULTS,
    EXPORTS,
    METRIC_WORDS,
    MODEL_LIBRARIES,
    MODEL_METHODS,
    NO_GRAD,
    PART_LISTS,
    PRETRAINED_LOADER,
    RETURNS_SELF,
    RUN_METHODS,
    TRAIN_FACTORIES,
    WRAPPERS,
)
from dropout_lint.config import DEFAULT_EVALUATION_FUNCTIONS
from dropout_lint.project.modes_ir import (
    Bind,
    Branch,
    Call,
    Event,
    Export,
    Inline,
    Leave,
    Leaving,
    Loop,
    MethodCall,
    ModeFunction,
    Phased,
    Restore,
    Save,
    Scoped,
    Source,
    SourceKind,
    Step,
    Switch,
    SwitchMode,
    Touch,
    Try,
    Use,
)
from dropout_lint.project.identity import plain
from dropout_lint.project.summary import Places

_NESTED_SCOPES = frozenset({cst.Lambda, cst.FunctionDef})  # their calls are not the function's

_OTHER = Source(SourceKind.OTHER)
_RETURN = Leave(Leaving.RETURN)
_RAISE = Leave(Leaving.RAISE)


Qualify = Callable[[cst.BaseExpression], Optional[str]]


class EventBuilder:
    """Turns one function body (or a module's top-level code) into events."""

    def __init__(
        self,
        places: Places,
        qualify: Qualify,
        text: Callable[[cst.CSTNode], str],
        evaluation_names: Sequence[str] = DEFAULT_EVALUATION_FUNCTIONS,
        stepping: Optional[Container[int]] = None,
    ) -> None:
        self.places = places
        self.qualify = qualify
        self.text = text
        self.evaluation_names = evaluation_names
        # The functions (by id) that may take a training step somewhere inside, when
        # known: the loops of the others need no looking at (None: any may).
        self.stepping = stepping
        self._training_loops: set[int] = set()
        self._flows: list[LossFlow] = []  # per open training loop, innermost last
        self._reading: Optional[int] = None  # the small statement being read (its id)
        # The scope being read, and what is learnt of it on the first use of a model that
        # needs it (most functions run no model): the calls whose result is looked at only
        # for its shape, the calls on made-up inputs, and the models the scope's
        # optimizers step (None: not known).
        self._scope: Sequence[cst.CSTNode] = ()  # the function's body, or the module's statements
        self._shapes: Optional[frozenset[int]] = None
        self._noise: Optional[frozenset[int]] = None
        self._exported: Optional[frozenset[int]] = None
        self._optimised: Optional[frozenset[str]] = None
        self._optimisers_read = False
        self._params: frozenset[str] = frozenset()  # the function's parameters
        self._phases: list[str] = []  # per open loop that a flag makes train or evaluate, the flag
        # "eval-function", "no_grad", and one of "loop:train", "loop:eval", "loop:plain" per loop.
        self._context: list[str] = []
        self._metrics: list[bool] = []  # per no_grad region: does it compute predictions/metrics
        self._temps: dict[int, str] = {}  # objects built inside expressions, by call id
        self._nested: dict[str, cst.FunctionDef] = {}  # the function's own nested functions
        self._may_step = True  # whether the scope may take a training step
        self._inlining: list[str] = []  # the nested functions being read at their calls
        self._top: Optional[cst.BaseExpression] = None  # the value of the assignment being read

    # Entry points.

    def function(self, func: cst.FunctionDef, qualname: str, cls: Optional[str]) -> ModeFunction:
        stepping = self.stepping is None or id(func) in self.stepping
        self._training_loops = training_loops(func.body) if stepping else set()
        self._may_step = bool(self._training_loops) or (stepping and any(is_training_step(n) for n in iter_nodes(func.body)))
        self._flows = []
        self._reading = None
        self._scope, self._shapes, self._noise, self._optimisers_read = (func.body,), None, None, False
        self._exported = None
        self._params = frozenset(p.name.value for p in (*func.params.posonly_params, *func.params.params, *func.params.kwonly_params))
        self._phases = []
        self._context = []
        self._metrics = []
        self._temps = {}
        self._nested = {nested.name.value: nested for nested in _nested_functions(func.body)}
        self._inlining = []
        events = tuple(self._scoped(func, lambda: tuple(self._block(block_statements(func.body)))))
        params = tuple(p.name.value for p in [*func.params.posonly_params, *func.params.params])
        return ModeFunction(qualname, cls, params, events, self.places.of(func.name))

    def _scoped(self, func: cst.FunctionDef, read: Callable[[], tuple[Event, ...]]) -> tuple[Event, ...]:
        """``read()`` inside what the function's name and decorators say: an evaluation
        function, a ``no_grad`` one."""
        depth, metrics = len(self._context), len(self._metrics)
        if _matches(func.name.value, self.evaluation_names):
            self._context.append("eval-function")
        if any(self._is_no_grad(d.decorator) for d in func.decorators):
            self._context.append("no_grad")
            self._metrics.append(bool(METRIC_WORDS.search(func.name.value)) or _computes_metrics(func.body))
        try:
            return read()
        finally:
            del self._context[depth:], self._metrics[metrics:]

    def _inline(self, name: str, args: Sequence[cst.Arg]) -> Inline:
        """The nested function ``name`` run with ``args``: its parameters bound to the
        arguments, then its body."""
        nested = self._nested[name]
        self._inlining.append(name)
        try:
            params = [p.name.value for p in (*nested.params.posonly_params, *nested.params.params)]
            given = [self._argument(a) if a.keyword is None else None for a in args]
            binds = tuple(
                Bind(param, Source(SourceKind.ALIAS, arg) if arg is not None else _OTHER)
                for param, arg in zip(params, given + [None] * (len(params) - len(given)))
            )
            body = self._scoped(nested, lambda: tuple(self._block(block_statements(nested.body))))
            return Inline((*binds, *body), tuple(params))
        finally:
            self._inlining.pop()

    def module(self, module: cst.Module, qualname: str) -> ModeFunction:
        body = [s for s in module.body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))]
        self._training_loops = set()
        for stmt in body:
            self._training_loops |= training_loops(stmt)
        self._scope, self._shapes, self._noise, self._optimisers_read = body, None, None, False
        self._exported = None
        self._may_step = bool(self._training_loops)
        self._nested = {}
        self._context = []
        self._metrics = []
        return ModeFunction(qualname, None, (), tuple(self._block(body)))

    # Statements.

    def _block(self, body: Sequence[Statement]) -> Iterator[Event]:
        for number, stmt in enumerate(body):
            if type(stmt) is cst.With:
                yield from self._with(stmt, body[number + 1 :])
            else:
                yield from self._statement(stmt)

    def _statement(self, stmt: Statement) -> Iterator[Event]:
        if type(stmt) is cst.SimpleStatementLine:
            for small in stmt.body:
                self._reading = id(small)
                yield from self._small(small)
            self._reading = None
        elif type(stmt) is cst.If:
            yield from self._expression(stmt.test)
            restore = _restore(stmt)
            if restore is not None:
                yield Restore(restore[0], restore[1], self.places.of(stmt))
                return
            orelse: list[Event] = []
            if type(stmt.orelse) is cst.If:
                orelse = list(self._statement(stmt.orelse))
            elif type(stmt.orelse) is cst.Else:
                orelse = list(self._block(block_statements(stmt.orelse.body)))
            branches = tuple(self._block(block_statements(stmt.body))), tuple(orelse)
            if type(stmt.test) is cst.Name and stmt.test.value in self._params:
                branches = _chosen_by_flag(*branches)
            yield Branch(*branches)
        elif isinstance(stmt, (cst.For, cst.While)):
            yield from self._loop(stmt)
        elif type(stmt) is cst.With:
            yield from self._with(stmt, ())
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            handlers = tuple(tuple(self._block(block_statements(h.body))) for h in stmt.handlers)
            body = tuple(self._block(block_statements(stmt.body)))
            after = tuple(self._block(block_statements(stmt.orelse.body))) if stmt.orelse else ()
            final = tuple(self._block(block_statements(stmt.finalbody.body))) if stmt.finalbody else ()
            yield Try(body, after, handlers, final)
        elif type(stmt) is cst.Match:
            yield from self._expression(stmt.subject)
            cases = tuple(tuple(self._block(block_statements(case.body))) for case in stmt.cases)
            yield Try((), handlers=cases)  # one of the cases runs: a join of branches

    def _loop(self, stmt: cst.For | cst.While) -> Iterator[Event]:
        evaluating_loader = False
        if isinstance(stmt, cst.For):
            yield from self._expression(stmt.iter)
            evaluating_loader = any(EVALUATION_DATA.search(name) for name in identifiers(stmt.iter))
        else:
            yield from self._expression(stmt.test)
        training = id(stmt) in self._training_loops
        phase = phase_flag(stmt, self._params) if not training and self._params else None
        if training:
            self._context.append("loop:train")
            self._flows.append(loss_flow(stmt))
        elif phase is not None:
            self._context.append("loop:phase")
            self._phases.append(phase)
        else:
            self._context.append("loop:eval" if evaluating_loader else "loop:plain")
        body = tuple(self._block(block_statements(stmt.body)))
        self._context.pop()
        if training:
            self._flows.pop()
        elif phase is not None:
            self._phases.pop()
        orelse = tuple(self._block(block_statements(stmt.orelse.body))) if stmt.orelse is not None else ()
        for target in _bound_paths(stmt.target) if type(stmt) is cst.For else ():
            body = (Bind(target, _OTHER), *body)
        yield Loop(body, orelse)

    def _with(self, stmt: cst.With, after: Sequence[Statement]) -> Iterator[Event]:
        """A ``with`` block, and the statements ``after`` it in its own block."""
        no_grad = False
        switched: list[tuple[str, Switch]] = []  # `with eval_mode(model):` switches for the block
        for item in stmt.items:
            if self._is_no_grad(item.item):
                no_grad = True
                continue
            switch = _mode_context(item.item)
            if switch is not None:
                switched.extend(switch)
                continue
            yield from self._expression(item.item)
        if no_grad:
            self._context.append("no_grad")
            # Predictions or metrics, computed in the block or, where the scope takes no
            # training step, from its results after it (`with no_grad(): out = model(x)`,
            # then `probs = softmax(out)`).
            self._metrics.append(
                _computes_metrics(stmt.body) or (not self._may_step and _metrics_after(stmt.body, after))
            )
        body = tuple(self._block(block_statements(stmt.body)))
        if no_grad:
            self._context.pop()
            self._metrics.pop()
        if not switched:
            yield from body
            return
        for path, mode in switched:
            text = f"with {'eval' if mode is Switch.EVAL else 'train'}_mode"
            body = (SwitchMode(path, mode, self.places.of(stmt), text), *body)
        yield Scoped(body, tuple(path for path, _ in switched))

    def _is_no_grad(self, expr: cst.BaseExpression) -> bool:
        func = expr.func if type(expr) is cst.Call else expr
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return False
        return self.qualify(func) in NO_GRAD

    def _small(self, small: cst.BaseSmallStatement) -> Iterator[Event]:
        if isinstance(small, (cst.Assign, cst.AnnAssign)):
            value = small.value
            if value is None:
                return
            self._top = value
            yield from self._expression(value)
            self._top = None
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [small.target]
            if type(value) is cst.Attribute and value.attr.value == "training" and len(targets) == 1:
                saved = dotted_name(value.value)
                if type(targets[0]) is cst.Name and saved is not None:
                    # `was_training = model.training`: restored later with `model.train(was_training)`.
                    yield Save(saved, targets[0].value)
            source = self._source(value)
            for target in targets:
                if isinstance(target, (cst.Tuple, cst.List)):
                    for bound in _bound_paths(target):
                        yield Bind(bound, _OTHER)
                    continue
                path = dotted_name(target)
                if path is not None:
                    made = self.places.of(value) if type(value) is cst.Call else None
                    yield Bind(path, source, self.places.of(target), made)
        elif type(small) is cst.AugAssign:
            yield from self._expression(small.value)
        elif type(small) is cst.Return:
            if small.value is None:
                yield _RETURN
                return
            yield from self._expression(small.value)
            yield Leave(Leaving.RETURN, self._returned(small.value))
        elif type(small) is cst.Raise:
            if small.exc is not None:
                yield from self._expression(small.exc)
            yield _RAISE
        elif type(small) is cst.Break:
            yield Leave(Leaving.BREAK)
        elif type(small) is cst.Continue:
            yield Leave(Leaving.CONTINUE)
        elif type(small) is cst.Expr:
            yield from self._expression(small.value)
        elif type(small) is cst.Del:
            return
        else:
            for child in children(small):
                if isinstance(child, cst.BaseExpression):
                    yield from self._expression(child)

    def _source(self, value: cst.BaseExpression) -> Source:
        path = dotted_name(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
        if path is not None:
            return Source(SourceKind.ALIAS, path)
        if type(value) is not cst.Call:
            return _OTHER
        func = value.func
        if type(func) is cst.Attribute and func.attr.value in RETURNS_SELF:
            # `Net().to(device).eval()` is the object built (and switched) inside.
            receiver = self._path(func.value)
            if receiver is not None:
                return Source(SourceKind.ALIAS, receiver)
            return self._source(func.value)
        factory = _looked_up_factory(func, self.qualify)
        if factory is not None:
            # `getattr(models, name)(...)`: a model library's model, or whatever a module of
            # the run holds under that name.
            return Source(SourceKind.TRAIN if plain(factory).startswith(MODEL_LIBRARIES) else SourceKind.CONFIGURED, factory)
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return _OTHER
        qualname = self.qualify(func)
        if qualname is not None:
            if TRAIN_FACTORIES.match(qualname):
                return Source(SourceKind.TRAIN, qualname)
            if qualname in CONFIGURED_FACTORIES:
                return Source(SourceKind.CONFIGURED, qualname)
            if PRETRAINED_LOADER.search(qualname):
                return Source(SourceKind.EVAL, qualname)
            if qualname in ("torch.load", "torch.jit.load", "torch.hub.load"):
                return Source(SourceKind.UNKNOWN, qualname)
            if qualname in WRAPPERS:
                # The wrapper shares the model's mode: `.eval()` on either switches both.
                first = value.args[0].value if value.args else None
                inner = self._path(first) if first is not None else None
                return Source(SourceKind.ALIAS, inner) if inner is not None else _OTHER
        args = tuple(self._argument(a) if a.keyword is None else None for a in value.args)
        passed = tuple(self._path(a.value) for a in value.args if a.keyword is not None)
        if qualname is None and type(func) is cst.Attribute:
            return _OTHER
        name = last_identifier(func) or ""
        if qualname is not None and _class_name(name):
            return Source(SourceKind.NEW, qualname, args, passed)
        if qualname is not None:
            return Source(SourceKind.CALL, qualname, args, passed)
        return _OTHER

    def _returned(self, value: cst.BaseExpression) -> Optional[str]:
        """The object a ``return`` gives back, as a path: ``model``, ``model.to(device)``,
        ``copy.deepcopy(model)`` (a copy keeps the mode), a module built in the expression."""
        if type(value) is cst.Call and len(value.args) == 1 and isinstance(value.func, (cst.Name, cst.Attribute)):
            if self.qualify(value.func) == "copy.deepcopy":
                return self._path(value.args[0].value)
        source = self._source(value)
        if source.kind is SourceKind.ALIAS:
            return source.target
        return self._temps.get(id(value))  # `return nn.Sequential(...)`: the object built there

    def _path(self, expr: cst.BaseExpression) -> Optional[str]:
        """The name or attribute chain of an expression, or the name given to an object
        built inside an expression (``Evaluator(Net())``)."""
        if isinstance(expr, (cst.Name, cst.Attribute)):
            return dotted_name(expr)
        return self._temps.get(id(expr))

    def _argument(self, arg: cst.Arg) -> Optional[str]:
        """A positional argument as a path: the name given, or for ``*list(net.children())``
        the model whose parts are given (None: neither)."""
        if not arg.star:
            return self._path(arg.value)
        for node in iter_nodes(arg.value):
            if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value in PART_LISTS:
                return dotted_name(node.func.value)
        return None

    def _construction(self, call: cst.Call) -> Optional[str]:
        """The class a call builds (a capitalised name the imports resolve), or None."""
        func = call.func
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return None
        name = last_identifier(func) or ""
        qualname = self.qualify(func)
        if qualname is None or not _class_name(name) or qualname in NO_GRAD:
            return None
        return qualname

    # Expressions: the calls in them, innermost first.

    def _expression(self, expr: cst.BaseExpression) -> Iterator[Event]:
        # A call is visited again, as a 1-tuple, once its arguments have come off the stack.
        stack: list[Any] = [expr]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is tuple:
                yield from self._call(node[0])
                continue
            if kind in _NESTED_SCOPES:
                continue
            if kind is cst.Call:
                stack.append((node,))
            push_children(stack, node)

    def _call(self, call: cst.Call) -> Iterator[Event]:
        func = call.func
        if self._nested:
            # A nested function called, or handed to a call that may run it (MultiBench's
            # `all_in_one_train(_trainprocess, ...)`), runs here.
            for expr in (func, *(a.value for a in call.args if a.keyword is None and not a.star)):
                if type(expr) is cst.Name and expr.value in self._nested and expr.value not in self._inlining:
                    yield self._inline(expr.value, call.args if expr is func else ())
        place = self.places.of(call)
        args = tuple(self._argument(a) if a.keyword is None else None for a in call.args)
        keywords = tuple(
            (a.keyword.value, self._path(a.value) or (self.text(a.value) if a.keyword.value == "training" else None))
            for a in call.args
            if a.keyword is not None
        )
        built = self._construction(call)
        if built is not None:
            if call is self._top:
                return  # `model = Net()`: the assignment binds it
            temp = " ".join(self.text(call).split())
            self._temps[id(call)] = temp
            source = Source(SourceKind.NEW, built, args, tuple(value for _, value in keywords))
            yield Bind(temp, source, place)
            return
        if type(func) is cst.Attribute:
            receiver = self._path(func.value)
            method = func.attr.value
            if receiver is not None and method in RETURNS_SELF:
                self._temps[id(call)] = receiver  # `Net().to(d).eval()`: one object throughout
            if is_training_step(call):
                yield Step(place)
                return
            if receiver is not None and self.qualify(func.value) is None:
                if _mode_switch(call, method):
                    flag = _flag_argument(call) if method == "train" else None
                    if flag is not None:
                        yield Restore(receiver, flag, place)
                        return
                    shown = f"{receiver}.{method}({'...' if call.args else ''})"
                    yield SwitchMode(receiver, _mode_of(call, method), place, shown)
                elif method in MODEL_METHODS:
                    yield Touch(receiver, method, place)
                elif method in RUN_METHODS:
                    yield self._use(receiver, call)
                else:
                    # A method of the receiver, or a model stored in one of its attributes
                    # (`self.model(x)`): the analysis tells which once classes are known.
                    use = self._use(f"{receiver}.{method}", call)
                    evaluating = isinstance(use, Use) and use.evaluating
                    training = isinstance(use, Use) and use.training
                    yield MethodCall(receiver, method, args, keywords, place, evaluating, training)
                    if isinstance(use, Phased):
                        yield use  # a model held in the attribute, trained or evaluated by a flag
                return
        if type(func) is cst.Name and func.value == "backward":
            yield Step(place)
            return
        if not isinstance(func, (cst.Name, cst.Attribute)):
            return
        qualname = self.qualify(func)
        if qualname is None:
            path = dotted_name(func)
            if path is not None:
                yield self._use(path, call)
            return
        if qualname in EXPORTS:
            yield Export(args[0] if args else None, qualname, keywords, place)
            return
        if qualname.rsplit(".", 1)[-1] == "backward":  # accelerator.backward(loss) resolves to nothing useful
            yield Step(place)
            return
        given = any(args) or any(value for _, value in keywords)
        yield Call(qualname, args, keywords, place, given and self._evaluates(qualname, call))

    def _evaluates(self, path: str, call: cst.Call) -> bool:
        """Whether a model that ``call`` runs would be evaluated there."""
        found = self._use(path, call)
        return isinstance(found, Use) and found.evaluating and not found.noise

    def _steps_parameters_of(self, path: str) -> bool:
        """Whether an optimizer of the scope steps the model called as ``path`` (or the
        scope's optimizers are not known)."""
        if not self._optimisers_read:
            self._optimised, self._optimisers_read = optimised_models(self._scope, self.qualify), True
        return self._optimised is None or any(_covers(model, path) for model in self._optimised)

    def _kept_as_data(self, call: cst.Call) -> bool:
        """Whether the result of ``call`` is taken out of torch (``.numpy()``, ``.tolist()``)."""
        if self._exported is None:
            self._exported = frozenset(call for part in self._scope for call in exported(part))
        return id(call) in self._exported

    def _use(self, path: str, call: cst.Call) -> Use | Phased:
        """A call of ``path``. It trains when the innermost loop takes training steps and
        no ``no_grad`` is open inside that loop; it evaluates in an evaluation function,
        in a loop over a validation/test loader, or under ``no_grad`` where predictions or
        metrics are computed."""
        context = self._context
        # The innermost loop decides; a plain one (`for s in range(n)`) inside a loop over
        # held-out data evaluates as that loop does. (Inside a training loop, a plain loop
        # that takes no step of its own is no training: a validation pass over
        # `loaders["val"]`.)
        loops = [i for i, token in enumerate(context) if token.startswith("loop:")]
        deciding = loops[-1] if loops else None
        if deciding is not None and context[deciding] == "loop:plain":
            outer = [i for i in loops if context[i] != "loop:plain"]
            if outer and context[outer[-1]] == "loop:eval":
                deciding = outer[-1]
        innermost = context[deciding] if deciding is not None else None
        no_grad_inside = "no_grad" in context[deciding + 1 :] if deciding is not None else "no_grad" in context
        if innermost == "loop:phase" and not no_grad_inside:
            # `for x, y in loader: ...; if train: loss.backward()`: it trains or evaluates
            # as the caller's flag says.
            return Phased(path, self.places.of(call), self._phases[-1])
        # Inside a training loop only a forward pass whose loss is back-propagated trains,
        # and not under no_grad (a teacher's targets, an EMA); one that feeds predictions
        # or metrics only evaluates.
        step = self._flows[-1].use(self._reading) if innermost == "loop:train" else None
        training = step is StepUse.TRAINS and not no_grad_inside and self._steps_parameters_of(path)
        if self._shapes is None:
            self._shapes = frozenset(call for part in self._scope for call in shape_only(part))
        evaluating = id(call) not in self._shapes and (
            step is StepUse.EVALUATES
            or (
                innermost != "loop:train"
                and (
                    "eval-function" in context
                    or innermost == "loop:eval"
                    or ("no_grad" in context and any(self._metrics))
                    or (not self._may_step and self._kept_as_data(call))
                )
            )
        )
        if evaluating and self._noise is None:
            self._noise = frozenset(call for part in self._scope for call in on_noise(part, self.qualify))
        return Use(path, self.places.of(call), evaluating, training, evaluating and id(call) in (self._noise or ()))


def _nested_functions(body: cst.BaseSuite) -> Iterator[cst.FunctionDef]:
    """The functions defined in a function's body (not in its nested classes, nor in those
    functions themselves)."""
    for stmt in iter_statements(block_statements(body)):
        if type(stmt) is cst.FunctionDef:
            yield stmt


def _class_name(name: str) -> bool:
    """Whether a called name is written like a class (``Net``, ``_EvalWrapper``)."""
    return name.lstrip("_")[:1].isupper()


def _mode_context(expr: cst.BaseExpression) -> Optional[list[tuple[str, Switch]]]:
    """``eval_mode(model)`` / ``train_mode(model)``: context managers (MONAI's and home-made
    ones) that switch the models they get for the block and switch them back after."""
    if type(expr) is not cst.Call or not isinstance(expr.func, (cst.Name, cst.Attribute)):
        return None
    name = (last_identifier(expr.func) or "").lower()
    mode = Switch.EVAL if "eval" in name else Switch.TRAIN if "train" in name else None
    if mode is None:
        return None
    paths = [dotted_name(arg.value) for arg in expr.args if arg.keyword is None]
    return [(path, mode) for path in paths if path is not None] or None


def _looked_up_factory(func: cst.BaseExpression, qualify: Qualify) -> Optional[str]:
    """``getattr(models, name)`` of an imported module (``torchvision.models``, a
    project's ``models``): the module, whose class or factory builds a new model."""
    if type(func) is not cst.Call or type(func.func) is not cst.Name or func.func.value != "getattr":
        return None
    if len(func.args) < 2 or not isinstance(func.args[0].value, (cst.Name, cst.Attribute)):
        return None
    return qualify(func.args[0].value)


def _covers(model: str, path: str) -> bool:
    """Whether the optimizer of ``model``'s parameters steps the model called as ``path``
    (``model`` and ``model.fc``, either way round)."""
    return path == model or path.startswith(model + ".") or model.startswith(path + ".")


def _mode_switch(call: cst.Call, method: str) -> bool:
    """``model.train()``, ``model.train(mode)`` or ``model.eval()``, as ``nn.Module``
    takes them; a trainer's ``trainer.train(model, data)`` is a method of its own."""
    if method == "eval":
        return not call.args
    return method == "train" and len(call.args) <= 1 and all(a.keyword is None or a.keyword.value == "mode" for a in call.args)


def _flag_argument(call: cst.Call) -> Optional[str]:
    """``was_training`` of ``model.train(was_training)`` / ``model.train(mode=prev)``."""
    if len(call.args) != 1:
        return None
    arg = call.args[0]
    if arg.keyword is not None and arg.keyword.value != "mode":
        return None
    return arg.value.value if type(arg.value) is cst.Name and arg.value.value not in ("True", "False") else None


def _chosen_by_flag(body: tuple[Event, ...], orelse: tuple[Event, ...]) -> tuple[tuple[Event, ...], tuple[Event, ...]]:
    """``if training: model.train() else: model.eval()`` on a parameter: the mode is the
    caller's choice, as with ``model.train(training)`` (not known here)."""
    then = {e.path: e.mode for e in body if isinstance(e, SwitchMode)}
    other = {e.path: e.mode for e in orelse if isinstance(e, SwitchMode)}
    chosen = {path for path, mode in then.items() if mode is not None and other.get(path) not in (None, mode)}
    if not chosen:
        return body, orelse

    def unknown(events: tuple[Event, ...]) -> tuple[Event, ...]:
        return tuple(replace(e, mode=None) if isinstance(e, SwitchMode) and e.path in chosen else e for e in events)

    return unknown(body), unknown(orelse)


def _restore(stmt: cst.If) -> Optional[tuple[str, str]]:
    """``if was_training: model.train()`` (and nothing else): the model, and the flag."""
    if type(stmt.test) is not cst.Name or stmt.orelse is not None:
        return None
    body = block_statements(stmt.body)
    if len(body) != 1 or type(body[0]) is not cst.SimpleStatementLine or len(body[0].body) != 1:
        return None
    small = body[0].body[0]
    if type(small) is not cst.Expr or type(small.value) is not cst.Call or small.value.args:
        return None
    func = small.value.func
    if type(func) is not cst.Attribute or func.attr.value != "train":
        return None
    model = dotted_name(func.value)
    return (model, stmt.test.value) if model is not None else None


def _mode_of(call: cst.Call, method: str) -> Optional[Switch]:
    if method == "eval":
        return Switch.EVAL
    if not call.args:
        return Switch.TRAIN
    value = call.args[0].value
    if type(value) is cst.Name and value.value in ("True", "False"):
        return Switch.TRAIN if value.value == "True" else Switch.EVAL
    return None


def _matches(name: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in patterns)


def _computes_metrics(body: cst.CSTNode) -> bool:
    """Predictions or metrics: argmax, softmax, accuracy, a loss, a scalar taken with
    ``.item()``, outputs kept as data with ``.numpy()`` or ``.tolist()``..."""
    return any(METRIC_WORDS.search(name) for name in identifiers(body)) or any(
        type(node) is cst.Call
        and type(node.func) is cst.Attribute
        and (node.func.attr.value == "item" or node.func.attr.value in EXPORTED_RESULTS)
        for node in iter_nodes(body)
    )


def _metrics_after(body: cst.BaseSuite, after: Sequence[Statement]) -> bool:
    """Whether a statement of ``after`` computes predictions or metrics from a name the
    block ``body`` binds."""
    bound = {name for stmt in iter_statements(block_statements(body)) for name in _assigned(stmt)}
    if not bound:
        return False
    for stmt in after:
        names = set(identifiers(stmt))
        if names & bound and any(METRIC_WORDS.search(name) for name in names):
            return True
    return False


def _assigned(stmt: Statement) -> Iterator[str]:
    """The names a simple statement assigns."""
    if type(stmt) is not cst.SimpleStatementLine:
        return
    for small in stmt.body:
        if type(small) is cst.Assign:
            for target in small.targets:
                yield from target_names(target.target)
        elif type(small) is cst.AnnAssign and small.value is not None:
            yield from target_names(small.target)


def _bound_paths(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _bound_paths(element.value)
    else:
        path = dotted_name(target)
        if path is not None:
            yield path


def local_names(func: cst.FunctionDef) -> frozenset[str]:
    """The names a function binds itself (parameters, assignments, loop and ``with``
    targets, imports, nested definitions...), and those it declares ``global`` and
    assigns: reads of any other name are reads of the module's names."""
    p = func.params
    names = {param.name.value for param in (*p.posonly_params, *p.params, *p.kwonly_params)}
    names.update(star.name.value for star in (p.star_arg, p.star_kwarg) if type(star) is cst.Param)
    stack: list[cst.CSTNode] = []
    push_children(stack, func.body)
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            names.add(node.name.value)  # type: ignore[attr-defined]
            continue
        if kind is cst.Lambda:
            continue
        if kind in _TARGETED:
            names.update(target_names(node.target))  # type: ignore[attr-defined]
        elif kind is cst.AsName:
            names.update(target_names(node.name))  # type: ignore[attr-defined]
        elif kind is cst.ImportAlias:
            alias = node.evaluated_alias or node.evaluated_name  # type: ignore[attr-defined]
            names.add(alias.split(".", 1)[0])
        push_children(stack, node)
    return frozenset(names)


_TARGETED = frozenset({cst.AssignTarget, cst.AnnAssign, cst.AugAssign, cst.NamedExpr, cst.For, cst.CompFor})
