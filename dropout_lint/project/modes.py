"""The train/eval mode of every model object, through the functions of the whole run.

The analysis interprets each function's events (``modes_ir``) over an abstract state:
which objects each name refers to, and for each object the modes it may be in, each with
the reason ("built at line 12", "`validate()` at line 40 calls `model.eval()`"). Branches
join, loops run to a fixed point (so the end of one epoch reaches the start of the next),
and a call to a function of the run applies that function's summary: the mode it leaves
its arguments in, and whether it evaluates or trains them in the mode they arrive in.

Only definite facts make findings: a model built in training mode, an explicit
``.train()``/``.eval()``, ``from_pretrained`` (eval). A parameter arrives in an unknown
mode ("entry"), and a model handed to code outside the run becomes unknown.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Optional

from dropout_lint.analysis.layers import module_layer
from dropout_lint.project.index import ProjectIndex, layerless_base
from dropout_lint.project.modes_ir import EXPORTS, LIBRARY_MODELS, Event, ModeFunction
from dropout_lint.project.summary import ClassSummary, Layer, Place
from dropout_lint.records import record
from dropout_lint.rule import LINE

_MAX_LOOP = 6
_MAX_DEPTH = 12
# External functions that only read a model.
_HARMLESS = frozenset(
    {
        "print", "len", "isinstance", "str", "repr", "id", "type", "hasattr", "getattr", "vars",
        "torch.save", "copy.deepcopy", "sum", "format", "logging.info", "logger.info",
    }
)
_FRAMEWORK_BASES = ("lightning", "pytorch_lightning", "transformers.Trainer", "transformers.trainer")


@record
class Obj:
    site: str
    cls: Optional[str] = None
    name: str = ""


@record
class Fact:
    mode: str  # "train", "eval", "entry" (as the caller passed it), "unknown"
    why: str = ""  # a reason; LINE stands for the lines of `places`, in order
    places: tuple[Place, ...] = ()


_UNKNOWN = Fact("unknown")


def _fact_order(fact: Fact) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Sort key: by reason, then by where it happened, so equal reasons from different
    branches are chosen the same way in every run (sets of facts have no order)."""
    return fact.why, tuple((place.path, place.index) for place in fact.places)


@dataclass
class State:
    env: dict[str, frozenset[Obj]] = field(default_factory=dict)
    facts: dict[Obj, frozenset[Fact]] = field(default_factory=dict)
    dead: bool = False

    def copy(self) -> State:
        return State(dict(self.env), dict(self.facts), self.dead)

    def join(self, other: State) -> State:
        if self.dead:
            return other.copy()
        if other.dead:
            return self.copy()
        env = dict(self.env)
        for path, objs in other.env.items():
            env[path] = env.get(path, frozenset()) | objs
        facts = dict(self.facts)
        for obj, found in other.facts.items():
            facts[obj] = facts.get(obj, frozenset()) | found
        return State(env, facts)

    def same(self, other: State) -> bool:
        return self.dead == other.dead and self.env == other.env and self.facts == other.facts


@record
class ModeFinding:
    code: str
    place: Place
    message: str
    related: tuple[Place, ...] = ()


def _finding_order(finding: ModeFinding) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Of two findings at one place, the one kept: the same in every run, whatever order
    the objects that reach the place (a set) were visited in."""
    return finding.message, tuple((place.path, place.index) for place in finding.related)


@dataclass
class Summary:
    """What a function does to the models it is given."""

    effects: dict[str, frozenset[Fact]] = field(default_factory=dict)  # param path -> modes at return
    evaluates: list[tuple[str, Place]] = field(default_factory=list)  # param paths evaluated as they came
    trains: list[tuple[str, Place]] = field(default_factory=list)
    stores: dict[str, str] = field(default_factory=dict)  # self path -> param path it holds
    unknown: bool = False


_NO_EFFECT = Summary()


class _ModeFunctions:
    """The run's functions by qualified name (the first of a name wins), read from the
    file summaries the index unpacks when asked; only the file of each name is kept."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.files: dict[str, int] = {}
        for number in range(len(index.files)):
            for function in index.modes_in(number):
                self.files.setdefault(function.qualname, number)

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def get(self, qualname: str) -> Optional[ModeFunction]:
        number = self.files.get(qualname)
        if number is None:
            return None
        return next(f for f in self.index.modes_in(number) if f.qualname == qualname)

    def __getitem__(self, qualname: str) -> ModeFunction:
        found = self.get(qualname)
        if found is None:
            raise KeyError(qualname)
        return found


class ModeAnalysis:
    """Runs over every function of the run once; keeps summaries for call sites."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.functions = _ModeFunctions(index)
        self.summaries: dict[str, Summary] = {}
        self.running: set[str] = set()
        self.findings: dict[tuple[str, str, int], ModeFinding] = {}

    def run(self) -> list[ModeFinding]:
        for qualname in self.functions:
            self.summary(qualname)
        return list(self.findings.values())

    def summary(self, qualname: str) -> Summary:
        done = self.summaries.get(qualname)
        if done is not None:
            return done
        if qualname in self.running or len(self.running) > _MAX_DEPTH:
            return Summary(unknown=True)
        function = self.functions[qualname]
        self.running.add(qualname)
        try:
            found = _Interpreter(self, function).run()
        finally:
            self.running.discard(qualname)
        if not (found.effects or found.evaluates or found.trains or found.stores or found.unknown):
            found = _NO_EFFECT  # most functions: one object for all (they are only read)
        self.summaries[qualname] = found
        return found

    def report(self, finding: ModeFinding, function: ModeFunction) -> None:
        if self._framework(function):
            return
        key = (finding.code, finding.place.path, finding.place.index)
        kept = self.findings.get(key)
        if kept is None or _finding_order(finding) < _finding_order(kept):
            self.findings[key] = finding

    def _framework(self, function: ModeFunction) -> bool:
        """Methods of Lightning modules and transformers' Trainer: the framework switches
        the mode around them."""
        if function.cls is None:
            return False
        located = self.index.lookup(function.cls)
        if located is None:
            return False
        for base in self.index.external_bases(located):
            if base is not None and base.startswith(_FRAMEWORK_BASES):
                return True
        return False

    def method(self, cls: Optional[str], name: str) -> Optional[ModeFunction]:
        located = self.index.lookup(cls) if cls else None
        if located is None:
            return None
        for current in self.index.mro_names(located):
            found = self.functions.get(f"{current}.{name}")
            if found is not None:
                return found
        return None

    def mode_dependent(self, obj: Obj) -> bool:
        """Whether a model has layers that behave differently in eval (dropout, batch
        norm), or layers the run cannot see."""
        if obj.cls is None:
            return True
        layer = module_layer(obj.cls)
        if layer is not None:
            # A loss or a plain layer behaves the same in both modes; containers may hold
            # anything, transformer layers hold dropout.
            return (
                layer.is_dropout
                or layer.kind in ("batchnorm", "sequential", "module_list", "module_dict", "rnn", "attention")
                or "Transformer" in obj.cls
            )
        located = self.index.lookup(obj.cls)
        if located is None:
            return True
        return _has_mode_layers(self.index, located.cls, set())


def _has_mode_layers(index: ProjectIndex, cls: ClassSummary, seen: set[str]) -> bool:
    """Whether a module class builds dropout or batch norm anywhere (itself, its bases,
    the parts it builds), or has a base the run cannot see."""
    if cls.qualname in seen or not index.is_module(cls):
        return False  # (a class that is no torch module holds no layers)
    seen.add(cls.qualname)
    for external in index.external_bases(cls):
        if not layerless_base(external):
            return True
    for current in index.mro(cls):
        for layer in (*(layer for _, layer in current.layers), *current.constructed):
            if _layer_has_mode(index, layer, seen):
                return True
        if current.forward is not None:
            for op in current.forward.ops:
                if op.type is not None and (op.type.is_dropout or op.type.kind == "batchnorm"):
                    return True
    return False


def _layer_has_mode(index: ProjectIndex, layer: Layer, seen: set[str]) -> bool:
    if layer.type is not None:
        kind = layer.type.kind
        if layer.type.is_dropout:
            return not (layer.rate is not None and layer.rate.value == 0)
        if kind == "batchnorm" or "Transformer" in layer.name:
            return True
        if kind in ("rnn", "attention"):
            # Their dropout defaults to 0: only a rate given (and not known to be 0) counts.
            return layer.rate is not None and layer.rate.value != 0
        # A container's contents are among the layers the class builds.
        return any(_layer_has_mode(index, child, seen) for child in layer.children)
    if layer.target is None or layer.name.endswith(("Error", "Exception", "Warning")):
        return False  # a builtin (an exception raised in __init__), not a layer
    located = index.lookup(layer.target)
    return located is None or _has_mode_layers(index, located.cls, seen)


class _Interpreter:
    def __init__(self, analysis: ModeAnalysis, function: ModeFunction) -> None:
        self.analysis = analysis
        self.index = analysis.index
        self.function = function
        # Parameters and the module's names arrive from the caller, in a mode unknown here.
        self.params = set(function.params) | function.globals
        self.entries: dict[str, Obj] = {}
        self.summary = Summary()
        self.exits: list[State] = []
        self.breaks: list[list[State]] = []
        self.continues: list[list[State]] = []
        self.finals: list[tuple[Event, ...]] = []  # enclosing `finally` blocks, outermost first

    # Names and objects.

    def _root(self, path: str) -> str:
        return path.split(".", 1)[0]

    def lookup(self, state: State, path: Optional[str], create: bool = True) -> frozenset[Obj]:
        if path is None:
            return frozenset()
        found = state.env.get(path)
        if found is not None:
            return found
        if create and self._root(path) in self.params:
            obj = Obj(f"entry:{self.function.qualname}:{path}", None, path)
            self.entries[path] = obj
            state.env[path] = frozenset({obj})
            state.facts[obj] = frozenset({Fact("entry")})
            return state.env[path]
        return frozenset()

    def bind(self, state: State, path: str, objs: frozenset[Obj]) -> None:
        prefix = path + "."
        for key in [k for k in state.env if k.startswith(prefix)]:
            del state.env[key]
        if objs:
            state.env[path] = objs
        else:
            state.env.pop(path, None)

    def set_facts(self, state: State, objs: frozenset[Obj], facts: frozenset[Fact]) -> None:
        # Every object the name may refer to takes the new mode: after
        # `if a: model = A() else: model = B()`, `model.eval()` switches whichever was built.
        for obj in objs:
            state.facts[obj] = facts

    # Running.

    def run(self) -> Summary:
        state = State()
        end = self.block(self.function.body(), state)
        final = end
        for exit_state in self.exits:
            final = final.join(exit_state)
        if final.dead:
            final = State()
        for path, obj in self.entries.items():
            facts = final.facts.get(obj, frozenset({Fact("entry")}))
            if facts != frozenset({Fact("entry")}):
                self.summary.effects[path] = facts
        for path, objs in final.env.items():
            if self._root(path) == (self.function.params[0] if self.function.params else None):
                for obj in objs:
                    if obj.site.startswith("entry:") and obj.name != path and self._root(obj.name) in self.params:
                        self.summary.stores[path] = obj.name
        return self.summary

    def block(self, events: Sequence[Event], state: State) -> State:
        for event in events:
            if state.dead:
                break
            state = self.event(event, state)
        return state

    def event(self, event: Event, state: State) -> State:
        kind = event.kind
        if kind == "bind":
            self.on_bind(event, state)
        elif kind == "mode":
            objs = self.lookup(state, event.path)
            own = self._own_method(event, objs)
            if own is not None:
                self.apply(state, own, (event.path,), (), event)  # a trainer's own train()
                return state
            if event.mode is None:
                self.set_facts(state, objs, frozenset({_UNKNOWN}))
            else:
                why = f"`{event.text}` at line {LINE} put it in {'training' if event.mode == 'train' else 'eval'} mode"
                self.set_facts(state, objs, frozenset({Fact(event.mode, why, _places(event))}))
        elif kind == "touch":
            self.lookup(state, event.path)
        elif kind == "use":
            self.on_use(event, state)
        elif kind == "method":
            self.on_method(event, state)
        elif kind == "call":
            self.on_call(event, state)
        elif kind == "export":
            self.on_export(event, state)
        elif kind == "if":
            then = self.block(event.body, state.copy())
            orelse = self.block(event.orelse, state.copy())
            return then.join(orelse)
        elif kind == "loop":
            return self.on_loop(event, state)
        elif kind == "scoped":
            held = [obj for path in event.args for obj in self.lookup(state, path)]
            saved = {obj: state.facts.get(obj, frozenset()) for obj in held}
            state = self.block(event.body, state)
            for obj, facts in saved.items():
                state.facts[obj] = facts  # the context manager switches them back
            return state
        elif kind == "try":
            start = state.copy()
            self.finals.append(event.final)
            try:
                out = self.block(event.orelse, self.block(event.body, state))
                for handler in event.handlers:
                    out = out.join(self.block(handler, start.copy()))
            finally:
                self.finals.pop()
            return self.block(event.final, out) if not out.dead else out
        elif kind == "return":
            self.exits.append(self._leaving(state))
            state.dead = True
        elif kind == "break" and self.breaks:
            self.breaks[-1].append(self._leaving(state))
            state.dead = True
        elif kind == "continue" and self.continues:
            self.continues[-1].append(self._leaving(state))
            state.dead = True
        return state

    def _leaving(self, state: State) -> State:
        """The state on a way out (return, break): enclosing `finally` blocks run first."""
        out = state.copy()
        finals, self.finals = self.finals, []
        try:
            for final in reversed(finals):
                out = self.block(final, out)
        finally:
            self.finals = finals
        return out

    def on_loop(self, event: Event, state: State) -> State:
        head = state.copy()
        breaks: list[State] = []
        for _ in range(_MAX_LOOP):
            self.breaks.append([])
            self.continues.append([])
            end = self.block(event.body, head.copy())
            breaks = self.breaks.pop()
            for continued in self.continues.pop():
                end = end.join(continued)
            following = head.join(end)
            if following.same(head):
                break
            head = following
        out = self.block(event.orelse, head.copy())
        for broken in breaks:
            out = out.join(broken)
        return out

    def on_bind(self, event: Event, state: State) -> None:
        source = event.source
        path = event.path
        if source is None or path is None:
            return
        if source.kind == "alias":
            self.bind(state, path, self.lookup(state, source.target))
            return
        place = event.place
        site = f"{place.path}#{place.index}" if place is not None else f"{self.function.qualname}:{path}"
        if source.kind in ("train", "eval", "unknown") and self.index.function(source.target or "") is not None:
            source = replace(source, kind="call")  # the run's own `from_pretrained`: what it returns
        if source.kind in ("train", "eval", "unknown"):
            obj = Obj(site, source.target, path)
            self.bind(state, path, frozenset({obj}))
            if source.kind == "train":
                fact = Fact("train", f"`{path}` was built at line {LINE}, and a new model starts in training mode", _places(event))
            elif source.kind == "eval":
                fact = Fact("eval", f"`from_pretrained` at line {LINE} returns it in eval mode", _places(event))
            else:
                fact = _UNKNOWN
            state.facts[obj] = frozenset({fact})
            return
        if source.kind == "new" and source.target is not None:
            self.on_new(state, path, site, source.target, source.args, event)
            return
        if source.kind == "call" and source.target is not None:
            function = self.index.function(source.target)
            built = [self.index.lookup(name) for name in (function.returns if function else ())]
            models = [b for b in built if b is not None and self.index.is_module(b.cls)]
            if models:
                obj = Obj(site, models[0].cls.qualname, path)
                self.bind(state, path, frozenset({obj}))
                why = f"`{path}` was built at line {LINE}, and a new model starts in training mode"
                state.facts[obj] = frozenset({Fact("train", why, _places(event))})
                return
            if source.target not in EXPORTS and source.target not in _HARMLESS:
                self.escape(state, [*source.args, *source.keywords])
        self.bind(state, path, frozenset())

    def on_new(
        self, state: State, path: str, site: str, target: str, args: tuple[Optional[str], ...], event: Event
    ) -> None:
        located = self.index.lookup(target)
        torch_layer = module_layer(target)
        if located is None and LIBRARY_MODELS.match(target):
            # `GPT2LMHeadModel(config)`: a library's model, with layers the run cannot see.
            obj = Obj(site, None, path)
            self.bind(state, path, frozenset({obj}))
            why = f"`{path}` was built at line {LINE}, and a new model starts in training mode"
            state.facts[obj] = frozenset({Fact("train", why, _places(event))})
            self.escape(state, [*args, *(event.source.keywords if event.source else ())])
            return
        if located is None and torch_layer is None:
            # An object from outside the run gets the model (transformers' Trainer, a
            # Lightning Trainer): anything may happen to its mode.
            self.escape(state, [*args, *(event.source.keywords if event.source else ())])
            self.bind(state, path, frozenset())
            return
        qualname = located.qualname if located is not None else target
        obj = Obj(site, qualname, path)
        self.bind(state, path, frozenset({obj}))
        if torch_layer is not None or (located is not None and self.index.is_module(located)):
            why = f"`{path}` was built at line {LINE}, and a new model starts in training mode"
            state.facts[obj] = frozenset({Fact("train", why, _places(event))})
        init = self.analysis.method(qualname, "__init__") if located is not None else None
        if init is not None:
            self.apply(state, init, (path, *args), (), event)

    def escape(self, state: State, paths: Sequence[Optional[str]]) -> None:
        for path in paths:
            objs = self.lookup(state, path, create=False)
            if objs:
                self.set_facts(state, objs, frozenset({_UNKNOWN}))

    def on_use(self, event: Event, state: State) -> None:
        objs = self.lookup(state, event.path)
        for obj in objs:
            facts = state.facts.get(obj, frozenset())
            entry = event.place is not None and any(f.mode == "entry" for f in facts) and obj.site.startswith("entry:")
            if event.evaluating:
                self._check(event, obj, facts, "train", "DL301")
                if entry:
                    self.summary.evaluates.append((obj.name, event.place))  # type: ignore[arg-type]
            if event.training:
                self._check(event, obj, facts, "eval", "DL302")
                if entry:
                    self.summary.trains.append((obj.name, event.place))  # type: ignore[arg-type]

    def _check(
        self,
        event: Event,
        obj: Obj,
        facts: frozenset[Fact],
        mode: str,
        code: str,
        via: str = "",
        via_places: tuple[Place, ...] = (),
    ) -> None:
        wrong = sorted((f for f in facts if f.mode == mode), key=_fact_order)
        if not wrong or event.place is None:
            return
        if code == "DL301" and not self.analysis.mode_dependent(obj):
            return
        fact = wrong[0]
        path = event.path or obj.name
        if code == "DL301":
            message = (
                f"{via}`{path}` is in training mode here, so its dropout is active during "
                f"evaluation: {fact.why}, and no `{path}.eval()` runs before this; call "
                f"`{path}.eval()` before evaluating"
            )
        else:
            message = (
                f"{via}`{path}` is in eval mode here, so this training step runs without "
                f"dropout: {fact.why}, and nothing calls `{path}.train()` before it; call "
                f"`{path}.train()` at the start of each epoch"
            )
        self.analysis.report(ModeFinding(code, event.place, message, (*via_places, *fact.places)), self.function)

    def _own_method(self, event: Event, objs: frozenset[Obj]) -> Optional[ModeFunction]:
        """``runner.train()`` where the runner is no torch module but has its own method."""
        classes = {obj.cls for obj in objs if obj.cls}
        if event.path == "self" and self.function.cls:
            classes.add(self.function.cls)
        for cls in classes:
            located = self.index.lookup(cls)
            if located is None or self.index.is_module(located):
                continue
            method = self.analysis.method(cls, "train" if event.mode != "eval" else "eval")
            if method is not None:
                return method
        return None

    def on_method(self, event: Event, state: State) -> None:
        receivers = self.lookup(state, event.path, create=event.path is not None and self._root(event.path) in self.params)
        classes = {obj.cls for obj in receivers if obj.cls}
        if event.path is not None and self._root(event.path) == "self" and self.function.cls and event.path == "self":
            classes.add(self.function.cls)
        for cls in classes:
            method = self.analysis.method(cls, event.callee or "")
            if method is not None:
                self.apply(state, method, (event.path, *event.args), event.keywords, event)
                return
        if not any(obj.cls is None or module_layer(obj.cls) for obj in receivers):
            # A method of an object from outside the run (`trainer.fit(model)`) may do
            # anything to the models it gets.
            self.escape(state, [*event.args, *(value for _, value in event.keywords)])
        if event.path is not None and (event.evaluating or event.training):
            # No such method: `self.model(x)` calls a model held in an attribute.
            held = Event(
                "use",
                path=f"{event.path}.{event.callee}",
                place=event.place,
                text=event.text,
                evaluating=event.evaluating,
                training=event.training,
            )
            self.on_use(held, state)

    def on_call(self, event: Event, state: State) -> None:
        callee = event.callee or ""
        name = self.index.resolve(callee)
        function = self.analysis.functions.get(name) if name is not None else None
        if function is not None:
            self.apply(state, function, event.args, event.keywords, event)
            return
        if name is not None:
            return  # a function of the run that does nothing to any mode
        if callee in _HARMLESS or callee.rsplit(".", 1)[-1] in _HARMLESS:
            return
        self.escape(state, [*event.args, *(value for _, value in event.keywords)])

    def apply(
        self,
        state: State,
        function: ModeFunction,
        args: Sequence[Optional[str]],
        keywords: Sequence[tuple[str, Optional[str]]],
        event: Event,
    ) -> None:
        """Apply a callee's summary at a call: map its parameters onto the arguments."""
        mapping: dict[str, str] = {}
        for param, arg in zip(function.params, args):
            if arg is not None:
                mapping[param] = arg
        for keyword, value in keywords:
            if keyword in function.params and value is not None:
                mapping[keyword] = value
        if function.module == self.function.module:
            # The module's names are the caller's too, unless it binds its own.
            top = self.function.qualname.endswith(".<module>")
            for name in function.globals:
                if top or name in self.function.globals:
                    mapping.setdefault(name, name)
        summary = self.analysis.summary(function.qualname)
        short = function.qualname.rsplit(".", 1)[-1]
        if summary.unknown:
            self.escape(state, list(mapping.values()))
            return

        def caller_path(path: str) -> Optional[str]:
            root, _, rest = path.partition(".")
            mapped = mapping.get(root)
            if mapped is None:
                return None
            return f"{mapped}.{rest}" if rest else mapped

        for path, place in summary.evaluates + summary.trains:
            target = caller_path(path)
            if target is None or event.place is None:
                continue
            code = "DL301" if (path, place) in summary.evaluates else "DL302"
            for obj in self.lookup(state, target):
                facts = state.facts.get(obj, frozenset())
                via_event = Event("use", path=target, place=event.place)
                mode = "train" if code == "DL301" else "eval"
                via = f"`{short}()` {'evaluates' if code == 'DL301' else 'trains'} it at line {LINE}: "
                self._check(via_event, obj, facts, mode, code, via, (place,))
                if any(f.mode == "entry" for f in facts) and obj.site.startswith("entry:"):
                    (self.summary.evaluates if code == "DL301" else self.summary.trains).append((obj.name, event.place))
        for self_path, param_path in summary.stores.items():
            holder, stored = caller_path(self_path), caller_path(param_path)
            if holder is not None and stored is not None:
                self.bind(state, holder, self.lookup(state, stored))
        for path, facts in summary.effects.items():
            target = caller_path(path)
            if target is None:
                continue
            objs = self.lookup(state, target)
            for obj in objs:
                before = state.facts.get(obj, frozenset())
                after: set[Fact] = set()
                for fact in facts:
                    if fact.mode == "entry":
                        after |= before
                    elif fact.mode == "unknown":
                        after.add(fact)
                    else:
                        why = f"`{short}()` (line {LINE}) calls it: {fact.why}"
                        after.add(Fact(fact.mode, why, (*_places(event), *fact.places)))
                state.facts[obj] = frozenset(after)

    def on_export(self, event: Event, state: State) -> None:
        keywords = dict(event.keywords)
        if event.callee == "torch.onnx.export":
            training = keywords.get("training", "")
            if "TRAINING" not in (training or "") and "PRESERVE" not in (training or ""):
                return  # the exporter switches to eval by default
        for obj in self.lookup(state, event.path):
            facts = state.facts.get(obj, frozenset())
            wrong = sorted((f for f in facts if f.mode == "train"), key=_fact_order)
            if not wrong or event.place is None or not self.analysis.mode_dependent(obj):
                continue
            api = EXPORTS.get(event.callee or "", event.callee)
            message = (
                f"`{api}` captures `{event.path}` in training mode, so dropout stays in the exported "
                f"graph: {wrong[0].why}; call `{event.path}.eval()` before exporting"
            )
            self.analysis.report(ModeFinding("DL303", event.place, message, wrong[0].places), self.function)


def _places(event: Event) -> tuple[Place, ...]:
    return (event.place,) if event.place is not None else ()


def mode_findings(index: ProjectIndex) -> list[ModeFinding]:
    """Every DL301/DL302/DL303 finding of the run (computed once per index)."""
    return index.shared("modes", lambda: ModeAnalysis(index).run())


def iter_codes(findings: Sequence[ModeFinding], code: str) -> Iterator[ModeFinding]:
    return (finding for finding in findings if finding.code == code)
