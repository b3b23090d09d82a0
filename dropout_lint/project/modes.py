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

import enum
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import NoReturn, Optional, Union

from dropout_lint.analysis.layers import module_layer
from dropout_lint.analysis.vocabulary import (
    COPIES,
    DROPOUT_FREE_MODELS,
    EVAL_MODE_LOADERS,
    EXPORTS,
    LIBRARY_MODELS,
    MODE_FRAMEWORK_BASES,
    MODEL_LIBRARIES,
    READ_ONLY_FUNCTIONS,
    WEIGHT_CHANGERS,
    WRAPPERS,
)
from dropout_lint.project.identity import plain
from dropout_lint.project.index import ProjectIndex, layerless_base
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
    SourceKind,
    Step,
    Switch,
    SwitchMode,
    Touch,
    Try,
    Use,
    blocks,
)
from dropout_lint.project.place import LINE, Place
from dropout_lint.project.rates import Pin, pin_at, rate_value
from dropout_lint.project.summary import ClassSummary, Layer
from dropout_lint.records import record

_MAX_LOOP = 6
_MAX_DEPTH = 12
_CONTAINERS = frozenset({"sequential", "module_list", "module_dict"})
# Sources that give a model of their own (a factory's, a loader's).
_MADE = frozenset({SourceKind.TRAIN, SourceKind.CONFIGURED, SourceKind.EVAL, SourceKind.UNKNOWN})


@record
class Obj:
    site: str
    cls: Optional[str] = None
    name: str = ""
    # The existing models it was built from (`Seq2seq(encoder, decoder)`,
    # `nn.Sequential(backbone, head)`): their layers are its layers.
    parts: frozenset[Obj] = frozenset()
    built: bool = False  # built here from its class, with the weights it starts with
    configured: bool = False  # built from a configuration: a model only once used as one


class Mode(enum.Enum):
    TRAIN = "training"
    EVAL = "eval"
    ENTRY = "entry"  # as the caller passed it
    UNKNOWN = "unknown"


@record
class Fact:
    mode: Mode
    # What set the mode, to follow "since" in a message (```model.train()` at line 12``);
    # LINE stands for the lines of `places`, in order.
    why: str = ""
    places: tuple[Place, ...] = ()


_UNKNOWN = Fact(Mode.UNKNOWN)
_ENTRY = Fact(Mode.ENTRY)


def _fact_order(fact: Fact) -> tuple[str, tuple[tuple[str, int], ...]]:
    """Sort key: by reason, then by where it happened, so equal reasons from different
    branches are chosen the same way in every run (sets of facts have no order)."""
    return fact.why, tuple((place.path, place.index) for place in fact.places)


@dataclass
class State:
    env: dict[str, frozenset[Obj]] = field(default_factory=dict)
    facts: dict[Obj, frozenset[Fact]] = field(default_factory=dict)
    dead: bool = False
    # The objects whose weights may have changed since they were built: trained, loaded,
    # or given to code that may do either.
    spoiled: set[Obj] = field(default_factory=set)
    # The objects built from a configuration that the code has used as models.
    shown: set[Obj] = field(default_factory=set)

    def copy(self) -> State:
        return State(dict(self.env), dict(self.facts), self.dead, set(self.spoiled), set(self.shown))

    def model(self, obj: Obj) -> bool:
        """Whether ``obj`` is known to be a model (not a tokenizer from `instantiate`)."""
        return not obj.configured or obj in self.shown

    def untrained(self, obj: Obj) -> bool:
        """Whether ``obj`` still holds the weights it was built with on every path."""
        return obj.built and obj not in self.spoiled

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
        return State(env, facts, spoiled=self.spoiled | other.spoiled, shown=self.shown | other.shown)

    def same(self, other: State) -> bool:
        return (
            self.dead == other.dead
            and self.env == other.env
            and self.facts == other.facts
            and self.spoiled == other.spoiled
            and self.shown == other.shown
        )


class ModeLayer(enum.Enum):
    """What makes a model behave differently in training and eval mode."""

    DROPOUT = "dropout"
    BATCH_NORM = "batch norm"
    UNSEEN = "layers the run cannot see, or a model whose class is not known"


@record
class Via:
    """A helper that evaluates or trains a model it is given, and where it does."""

    function: str
    place: Place


@record
class EvalInTrainMode:
    """A model evaluated (or used for inference) while it may be in training mode."""

    place: Place
    model: str  # as written at the place
    fact: Fact  # how it came to be in training mode
    layers: frozenset[ModeLayer]
    via: Optional[Via] = None


@record
class TrainInEvalMode:
    """A training step taken while the model may be in eval mode."""

    place: Place
    model: str
    fact: Fact  # how it came to be in eval mode
    layers: frozenset[ModeLayer]
    via: Optional[Via] = None


@record
class ExportInTrainMode:
    """An export or trace that captures a model that may be in training mode."""

    place: Place
    model: str
    api: str  # the exporting function, qualified
    fact: Fact
    layers: frozenset[ModeLayer]


ModeViolation = Union[EvalInTrainMode, TrainInEvalMode, ExportInTrainMode]


def related_places(violation: ModeViolation) -> tuple[Place, ...]:
    """The places a message about the violation points at: the helper's use, then the
    places of the fact, in the order its reason names them."""
    via = violation.via if not isinstance(violation, ExportInTrainMode) else None
    return ((via.place,) if via is not None else ()) + violation.fact.places


def _violation_order(violation: ModeViolation) -> tuple[str, str, tuple[tuple[str, int], ...]]:
    """Of two violations at one place, the one kept: the same in every run, whatever
    order the objects that reach the place (a set) were visited in."""
    return violation.model, violation.fact.why, tuple((p.path, p.index) for p in related_places(violation))


@dataclass
class Summary:
    """What a function does to the models it is given."""

    effects: dict[str, frozenset[Fact]] = field(default_factory=dict)  # param path -> modes at return
    evaluates: list[tuple[str, Place]] = field(default_factory=list)  # param paths evaluated as they came
    trains: list[tuple[str, Place]] = field(default_factory=list)
    # param paths run as they came where the function neither evaluates nor trains: a
    # caller that calls the function where it evaluates evaluates them.
    runs: list[tuple[str, Place]] = field(default_factory=list)
    # param paths run in a loop that a flag parameter makes train or evaluate: (path, place, flag)
    phased: list[tuple[str, Place, str]] = field(default_factory=list)
    stores: dict[str, str] = field(default_factory=dict)  # self path -> param path it holds
    # Models a method builds and keeps in an attribute (`self.model = Net()` in
    # `__init__`), with their modes when it returns.
    creates: dict[str, frozenset[Obj]] = field(default_factory=dict)
    created: dict[Obj, frozenset[Fact]] = field(default_factory=dict)
    # The parameter every `return` gives back (`def load(model, path): ...; return model`).
    returns: Optional[str] = None
    # A model made from a parameter that every `return` gives back (a copy of it, a module
    # of its parts: `nn.Sequential(*list(net.children())[:k])`), or a new one: the
    # parameter, and the modes of what is returned (ENTRY: the parameter's, as it came).
    derives: Optional[tuple[str, frozenset[Fact]]] = None
    unknown: bool = False


_NO_EFFECT = Summary()


FunctionKey = tuple[int, str]  # a function of the run: its file's number, its qualified name


class _ModeFunctions:
    """The run's functions, read from the file summaries the index unpacks when asked.
    Files may share a module name (`mnist/main.py` and `mnist_rnn/main.py`, scripts
    outside any package): a name is found in the caller's own file first, and a name
    that several other files define is not guessed at."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.files: dict[str, list[int]] = {}
        for number in range(len(index.files)):
            for function in index.modes_in(number):
                numbers = self.files.setdefault(function.qualname, [])
                if number not in numbers:
                    numbers.append(number)

    def __iter__(self) -> Iterator[FunctionKey]:
        for qualname, numbers in self.files.items():
            for number in numbers:
                yield number, qualname

    def find(self, qualname: Optional[str], near: Optional[int]) -> Optional[FunctionKey]:
        """The function ``qualname``: the one in file ``near`` if it defines one, else the
        only one of that name (None: none, or several)."""
        numbers = self.files.get(qualname) if qualname is not None else None
        if not numbers or qualname is None:
            return None
        if near in numbers:
            return near, qualname
        return (numbers[0], qualname) if len(numbers) == 1 else None

    def __getitem__(self, key: FunctionKey) -> ModeFunction:
        number, qualname = key
        return next(f for f in self.index.modes_in(number) if f.qualname == qualname)


class ModeAnalysis:
    """Runs over every function of the run once; keeps summaries for call sites."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.functions = _ModeFunctions(index)
        self.summaries: dict[FunctionKey, Summary] = {}
        self.running: set[FunctionKey] = set()
        self.violations: dict[tuple[type, str, int], ModeViolation] = {}
        self._methods: dict[tuple[str, str], Optional[FunctionKey]] = {}

    def run(self) -> list[ModeViolation]:
        for key in self.functions:
            self.summary(key)
        return list(self.violations.values())

    def summary(self, key: FunctionKey) -> Summary:
        done = self.summaries.get(key)
        if done is not None:
            return done
        if key in self.running or len(self.running) > _MAX_DEPTH:
            return Summary(unknown=True)
        self.running.add(key)
        try:
            found = _Interpreter(self, key).run()
        finally:
            self.running.discard(key)
        if not (
            found.effects or found.evaluates or found.trains or found.runs or found.phased or found.stores or found.creates
            or found.returns or found.derives or found.unknown
        ):  # fmt: skip
            found = _NO_EFFECT  # most functions: one object for all (they are only read)
        self.summaries[key] = found
        return found

    def report(self, violation: ModeViolation, function: ModeFunction) -> None:
        if self._framework(function):
            return
        key = (type(violation), violation.place.path, violation.place.index)
        kept = self.violations.get(key)
        if kept is None or _violation_order(violation) < _violation_order(kept):
            self.violations[key] = violation

    def _framework(self, function: ModeFunction) -> bool:
        """Methods of Lightning modules and transformers' Trainer: the framework switches
        the mode around them."""
        if function.cls is None:
            return False
        located = self.index.lookup(function.cls)
        if located is None:
            return False
        for base in self.index.external_bases(located):
            if base is not None and base.startswith(MODE_FRAMEWORK_BASES):
                return True
        return False

    def method(self, cls: Optional[str], name: str) -> Optional[FunctionKey]:
        """The method ``name`` of class ``cls`` or its bases in the run (asked at every
        use of a model, for ``__call__``: kept once found)."""
        key = (cls or "", name)
        if key not in self._methods:
            self._methods[key] = self._find_method(cls, name)
        return self._methods[key]

    def _find_method(self, cls: Optional[str], name: str) -> Optional[FunctionKey]:
        located = self.index.lookup(cls) if cls else None
        if located is None:
            return None
        for current in self.index.mro_names(located):
            found = self.functions.find(f"{current}.{name}", self.index.file_of_class(current))
            if found is not None:
                return found
        return None

    def mode_layers(self, obj: Obj) -> frozenset[ModeLayer]:
        """What makes a model behave differently in eval: dropout, batch norm, or layers
        the run cannot see (none: it behaves the same in both modes)."""
        found: set[ModeLayer] = set()
        for part in obj.parts:
            found |= self.mode_layers(part)
        if obj.cls is None:
            return frozenset({ModeLayer.UNSEEN}) if not obj.parts else frozenset(found)
        if DROPOUT_FREE_MODELS.match(obj.cls):
            return frozenset(found)
        layer = module_layer(obj.cls)
        if layer is not None:
            # A loss or a plain layer behaves the same in both modes; containers may hold
            # anything, recurrent, attention and transformer layers hold dropout.
            if layer.is_dropout:
                found.add(ModeLayer.DROPOUT)
            elif layer.kind == "batchnorm":
                found.add(ModeLayer.BATCH_NORM)
            elif layer.kind in ("rnn", "attention") or "Transformer" in obj.cls:
                found.add(ModeLayer.DROPOUT)
            elif layer.kind in ("sequential", "module_list", "module_dict") and not obj.parts:
                found.add(ModeLayer.UNSEEN)
            return frozenset(found)
        located = self.index.lookup(obj.cls)
        if located is None:
            return frozenset({ModeLayer.UNSEEN})
        path, _, number = obj.site.rpartition("#")
        pin = pin_at(self.index, path, int(number)) if number.isdigit() else None
        if pin is not None and pin[0].qualname != located.qualname:
            pin = None
        found |= _mode_layers(self.index, located.cls, set(), pin)
        return frozenset(found)




def _mode_layers(index: ProjectIndex, cls: ClassSummary, seen: set[str], pin: Optional[Pin] = None) -> set[ModeLayer]:
    """What a module class builds that depends on the mode (itself, its bases, the parts
    it builds; with ``pin``, for the one object that instantiation built). A base the run cannot see counts as unseen layers when it comes from a
    model library, or when the classes the run sees build no layers of their own (a
    framework base such as NeMo's ``NeuralModule`` adds none to a class that builds its
    own)."""
    if cls.qualname in seen or not index.is_module(cls):
        return set()  # (a class that is no torch module holds no layers)
    seen.add(cls.qualname)
    found: set[ModeLayer] = set()
    family = index.mro(cls)
    builds = any(current.layers or current.constructed for current in family)
    for external in index.external_bases(cls):
        if layerless_base(external):
            continue
        if not builds or external is None or external.startswith(MODEL_LIBRARIES):
            found.add(ModeLayer.UNSEEN)
    # A part of a class the run cannot resolve is a module only when the class uses it as
    # one: NeMo's beam-search decoder holds a language-model scorer it passes on, and
    # calls `self.decoder.decode(...)` of a non-torch decoder.
    used = frozenset().union(*(current.modules for current in family))
    unused = {(layer.place.path, layer.place.index) for current in family for attr, layer in current.layers if attr not in used}
    for current in family:
        for layer in (*(layer for _, layer in current.layers), *current.constructed):
            if (layer.place.path, layer.place.index) in unused and _unresolved(index, layer):
                continue
            found |= _layer_modes(index, layer, seen, pin)
        if current.forward is not None:
            for op in current.forward.ops:
                if op.type is not None and op.type.is_dropout:
                    found.add(ModeLayer.DROPOUT)
                elif op.type is not None and op.type.kind == "batchnorm":
                    found.add(ModeLayer.BATCH_NORM)
    return found


def _unresolved(index: ProjectIndex, layer: Layer) -> bool:
    """A part built from a class of neither torch nor the run."""
    target = layer.target
    return (
        layer.type is None
        and target is not None
        and not plain(target).startswith(MODEL_LIBRARIES)
        and index.lookup(target) is None
    )


def _layer_modes(index: ProjectIndex, layer: Layer, seen: set[str], pin: Optional[Pin]) -> set[ModeLayer]:
    if layer.type is not None:
        kind = layer.type.kind
        if layer.type.is_dropout:
            return set() if layer.rate is not None and rate_value(index, layer.rate, pin) == 0 else {ModeLayer.DROPOUT}
        if kind == "batchnorm":
            return {ModeLayer.BATCH_NORM}
        if "Transformer" in layer.name:
            return {ModeLayer.DROPOUT}
        if kind in ("rnn", "attention"):
            # Their dropout defaults to 0: only a rate given (and not known to be 0) counts.
            return {ModeLayer.DROPOUT} if layer.rate is not None and rate_value(index, layer.rate, pin) != 0 else set()
        # A container's contents are among the layers the class builds; those its caller
        # gives (`nn.ModuleList(encoders)` of an `__init__` parameter) cannot be seen.
        found: set[ModeLayer] = {ModeLayer.UNSEEN} if layer.given else set()
        for child in layer.children:
            found |= _layer_modes(index, child, seen, pin)
        return found
    if layer.target is None or layer.name.endswith(("Error", "Exception", "Warning")):
        return set()  # a builtin (an exception raised in __init__), not a layer
    if layer.target.startswith("torch."):
        return set()  # `nn.Parameter(...)`, a tensor: torch's, and no layer
    located = index.lookup(layer.target)
    return {ModeLayer.UNSEEN} if located is None else _mode_layers(index, located.cls, seen, pin)


class _Interpreter:
    def __init__(self, analysis: ModeAnalysis, key: FunctionKey) -> None:
        self.analysis = analysis
        self.index = analysis.index
        self.file = key[0]
        self.function = function = analysis.functions[key]
        # Parameters and the module's names arrive from the caller, in a mode unknown here.
        self.params = set(function.params) | function.globals
        self.entries: dict[str, Obj] = {}
        self.summary = Summary()
        self.exits: list[State] = []
        self.breaks: list[list[State]] = []
        self.continues: list[list[State]] = []
        self.finals: list[tuple[Event, ...]] = []  # enclosing `finally` blocks, outermost first
        # `was_training = model.training`: the modes each flag saved, by object.
        self.saved: dict[str, dict[Obj, frozenset[Fact]]] = {}
        self.returned: list[dict[Obj, frozenset[Fact]]] = []  # what each `return` gives back, with its modes

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
            state.facts[obj] = frozenset({_ENTRY})
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
            facts = final.facts.get(obj, frozenset({_ENTRY}))
            if facts != frozenset({_ENTRY}):
                self.summary.effects[path] = facts
        returned = {obj for objs in self.returned for obj in objs}
        if len(returned) == 1 and all(self.returned):
            (obj,) = returned
            if obj.site.startswith("entry:") and obj.name in self.function.params:
                self.summary.returns = obj.name
        if self.summary.returns is None and all(self.returned):
            self.summary.derives = self._derived()
        holder = self.function.params[0] if self.function.params and self.function.cls else None
        for path, objs in final.env.items():
            if self._root(path) != holder or path == holder:
                continue
            for obj in objs:
                if obj.site.startswith("entry:") and obj.name != path and self._root(obj.name) in self.params:
                    self.summary.stores[path] = obj.name
            made = frozenset(obj for obj in objs if not obj.site.startswith("entry:") and obj in final.facts)
            if made:
                self.summary.creates[path] = made
                self.summary.created.update((obj, final.facts[obj]) for obj in made)
        return self.summary

    def _derived(self) -> Optional[tuple[str, frozenset[Fact]]]:
        """The parameter every `return` gives back a model made from (a copy, a module of
        its parts) or a new model, and the modes of what is returned."""
        params = {
            obj
            for given in self.returned
            for returned in given
            for obj in (returned, *returned.parts)
            if obj.site.startswith("entry:") and obj.name in self.function.params
        }
        if len(params) != 1:
            return None
        (param,) = params
        for given in self.returned:
            for obj in given:
                if param not in obj.parts and not (obj.built and given[obj]):
                    return None  # the parameter itself (`returns`), or something else
        facts = frozenset(fact for given in self.returned for found in given.values() for fact in found)
        return param.name, facts

    def block(self, events: Sequence[Event], state: State) -> State:
        for event in events:
            if state.dead:
                break
            state = self.event(event, state)
        return state

    def event(self, event: Event, state: State) -> State:
        # (The commonest kinds first.)
        if isinstance(event, Use):
            self.on_use(event, state)
        elif isinstance(event, Call):
            self.on_call(event, state)
        elif isinstance(event, Bind):
            self.on_bind(event, state)
        elif isinstance(event, MethodCall):
            self.on_method(event, state)
        elif isinstance(event, Branch):
            then = self.block(event.body, state.copy())
            orelse = self.block(event.orelse, state.copy())
            return then.join(orelse)
        elif isinstance(event, Loop):
            return self.on_loop(event, state)
        elif isinstance(event, SwitchMode):
            self.on_switch(event, state)
        elif isinstance(event, Touch):
            objs = self.lookup(state, event.path)
            state.shown |= objs
            if event.method in WEIGHT_CHANGERS:
                state.spoiled |= objs
        elif isinstance(event, Phased):
            for obj in self.lookup(state, event.path):
                if event.place is not None and _ENTRY in state.facts.get(obj, frozenset()) and obj.site.startswith("entry:"):
                    self.summary.phased.append((obj.name, event.place, event.flag))
        elif isinstance(event, Save):
            self.saved[event.flag] = {obj: state.facts.get(obj, frozenset()) for obj in self.lookup(state, event.path)}
        elif isinstance(event, Restore):
            # `model.train(was_training)`: back to the mode saved in the flag, when known.
            saved = self.saved.get(event.flag, {})
            for obj in self.lookup(state, event.path):
                state.facts[obj] = saved.get(obj, frozenset({_UNKNOWN}))
        elif isinstance(event, Export):
            self.on_export(event, state)
        elif isinstance(event, Scoped):
            held = [obj for path in event.held for obj in self.lookup(state, path)]
            saved = {obj: state.facts.get(obj, frozenset()) for obj in held}
            state = self.block(event.body, state)
            for obj, facts in saved.items():
                state.facts[obj] = facts  # the context manager switches them back
            return state
        elif isinstance(event, Try):
            return self.on_try(event, state)
        elif isinstance(event, Inline):
            return self.on_inline(event, state)
        elif isinstance(event, Leave):
            self.on_leave(event, state)
        elif isinstance(event, Step):
            state.spoiled.update(state.facts)  # (which models it trains, the uses that feed its loss say)
        else:
            _unhandled(event)
        return state

    def on_switch(self, event: SwitchMode, state: State) -> None:
        objs = self.lookup(state, event.path)
        own = self._own_method(event, objs)
        if own is not None:
            self.apply(state, own, (event.path,), (), event.place)  # a trainer's own train()
            return
        state.shown |= objs  # (only a module has a mode to switch)
        if event.mode is None:
            self.set_facts(state, objs, frozenset({_UNKNOWN}))
            return
        if not objs and event.place is not None:
            # A model the run did not see built (`define_model(trial)` returning an
            # `nn.Sequential`, a class it cannot resolve): the switch says what it is.
            objs = frozenset({Obj(f"switched:{event.place.path}#{event.place.index}", None, event.path)})
            self.bind(state, event.path, objs)
        why = f"`{event.text}` at line {LINE}"
        mode = Mode.EVAL if event.mode is Switch.EVAL else Mode.TRAIN
        self.set_facts(state, objs, frozenset({Fact(mode, why, _places(event.place))}))

    def on_leave(self, event: Leave, state: State) -> None:
        if event.how is Leaving.RETURN or event.how is Leaving.RAISE:
            if event.how is Leaving.RETURN:
                objs = self.lookup(state, event.value) if event.value is not None else frozenset()
                self.returned.append({obj: state.facts.get(obj, frozenset()) for obj in objs})
            self.exits.append(self._leaving(state))
        elif event.how is Leaving.BREAK and self.breaks:
            self.breaks[-1].append(self._leaving(state))
        elif event.how is Leaving.CONTINUE and self.continues:
            self.continues[-1].append(self._leaving(state))
        else:
            return  # (`break` outside any loop the analysis follows)
        state.dead = True

    def on_inline(self, event: Inline, state: State) -> State:
        """A nested function's body: its `return` (and a loop's `break` inside it) leave
        only the body."""
        shadowed = {path: objs for path, objs in state.env.items() if self._root(path) in event.params}
        outer = self.exits, self.breaks, self.continues, self.finals, self.returned
        self.exits, self.breaks, self.continues, self.finals, self.returned = [], [], [], [], []
        try:
            end = self.block(event.body, state)
            for exit_state in self.exits:
                end = end.join(exit_state)
        finally:
            self.exits, self.breaks, self.continues, self.finals, self.returned = outer
        for path in [path for path in end.env if self._root(path) in event.params]:
            del end.env[path]  # (the parameters' names are the enclosing function's again)
        end.env.update(shadowed)
        return end

    def on_try(self, event: Try, state: State) -> State:
        start = state.copy()
        self.finals.append(event.final)
        try:
            out = self.block(event.orelse, self.block(event.body, state))
            for handler in event.handlers:
                out = out.join(self.block(handler, start.copy()))
        finally:
            self.finals.pop()
        return self.block(event.final, out) if not out.dead else out

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

    def on_loop(self, event: Loop, state: State) -> State:
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

    def on_bind(self, event: Bind, state: State) -> None:
        source = event.source
        path = event.path
        if source.kind is SourceKind.ALIAS:
            self.bind(state, path, self.lookup(state, source.target))
            return
        place = event.place
        # An object is named by the call that builds it, where there is one.
        named = event.made or place
        site = f"{named.path}#{named.index}" if named is not None else f"{self.function.qualname}:{path}"
        if source.kind in _MADE and self.index.function(source.target or "") is not None:
            source = replace(source, kind=SourceKind.CALL)  # the run's own `from_pretrained`: what it returns
        elif source.kind is SourceKind.EVAL and not self._loads_in_eval(source.target or ""):
            source = replace(source, kind=SourceKind.UNKNOWN)
        if source.kind in _MADE:
            obj = Obj(site, source.target, path, configured=source.kind is SourceKind.CONFIGURED)
            self.bind(state, path, frozenset({obj}))
            if source.kind in (SourceKind.TRAIN, SourceKind.CONFIGURED):
                fact = Fact(Mode.TRAIN, f"`{path}` was built at line {LINE}", _places(place))
            elif source.kind is SourceKind.EVAL:
                fact = Fact(Mode.EVAL, f"`from_pretrained` at line {LINE}", _places(place))
            else:
                fact = _UNKNOWN
            state.facts[obj] = frozenset({fact})
            return
        if source.kind is SourceKind.NEW and source.target is not None:
            self.on_new(state, path, site, source.target, source.args, event)
            return
        if source.kind is SourceKind.CALL and source.target is not None:
            given = self._returned_argument(source.target, source.args)
            if given is not None:
                # `model = load(model, path)`: the helper gives back what it was given.
                self.bind(state, path, self.lookup(state, given))
                return
            if source.target in COPIES and source.args and source.args[0] is not None:
                # `best = copy.deepcopy(model)`: another model, in the mode of the first.
                self._made_from(state, path, site, source.args[0], frozenset({_ENTRY}), None)
                return
            derived = self._derived_argument(source.target, source.args)
            if derived is not None:
                # `actmodel = truncate(net, k)`: a model made from `net` (or a new one).
                given, facts, short = derived
                self._made_from(state, path, site, given, facts, (short, place))
                return
            function = self.index.function(source.target)
            built = [self.index.lookup(name) for name in (function.returns if function else ())]
            models = [b for b in built if b is not None and self.index.is_module(b.cls)]
            if models:
                name = self.index.resolve(source.target)
                factory = self.analysis.functions.find(name, self.file)
                untrained = factory is not None and not _may_load(self.analysis.functions[factory].body())
                obj = Obj(site, models[0].cls.qualname, path, built=untrained)
                self.bind(state, path, frozenset({obj}))
                why = f"`{path}` was built at line {LINE}"
                state.facts[obj] = frozenset({Fact(Mode.TRAIN, why, _places(place))})
                return
        # (What a call does to the models it is given, its own event has applied.)
        self.bind(state, path, frozenset())

    def _made_from(
        self, state: State, path: str, site: str, given: str, facts: frozenset[Fact], via: Optional[tuple[str, Optional[Place]]]
    ) -> None:
        """Bind ``path`` to a model made from the model ``given`` holds, in the modes
        ``facts`` (ENTRY: the mode ``given`` is in)."""
        parts = self.lookup(state, given)
        if not parts:
            self.bind(state, path, frozenset())
            return
        obj = Obj(site, None, path, parts, built=all(state.untrained(part) for part in parts))
        modes: set[Fact] = set()
        for fact in facts:
            if fact.mode is Mode.ENTRY:
                modes.update(f for part in parts for f in state.facts.get(part, ()))
            elif via is not None and fact.mode is not Mode.UNKNOWN:
                why = f"{fact.why}, via `{via[0]}()` at line {LINE}"
                modes.add(Fact(fact.mode, why, (*fact.places, *_places(via[1]))))
            else:
                modes.add(fact)
        self.bind(state, path, frozenset({obj}))
        state.facts[obj] = frozenset(modes)
        if any(state.model(part) for part in parts):
            state.shown.add(obj)

    def _derived_argument(
        self, callee: str, args: tuple[Optional[str], ...]
    ) -> Optional[tuple[str, frozenset[Fact], str]]:
        """The argument a function of the run returns a model made from, with the modes of
        what it returns and the function (None: it does not)."""
        key = self.analysis.functions.find(self.index.resolve(callee), self.file)
        if key is None:
            return None
        derives = self.analysis.summary(key).derives
        params = self.analysis.functions[key].params
        if derives is None or derives[0] not in params[: len(args)]:
            return None
        given = args[params.index(derives[0])]
        if given is None:
            return None
        return given, derives[1], self.analysis.functions[key].qualname.rsplit(".", 1)[-1]

    def _returned_argument(self, callee: str, args: tuple[Optional[str], ...]) -> Optional[str]:
        """The argument a function of the run returns (``return model``), if it does."""
        key = self.analysis.functions.find(self.index.resolve(callee), self.file)
        if key is None:
            return None
        returns = self.analysis.summary(key).returns
        params = self.analysis.functions[key].params
        if returns is None or returns not in params[: len(args)]:
            return None
        return args[params.index(returns)]

    def _loads_in_eval(self, factory: str) -> bool:
        """Whether ``X.from_pretrained`` is Hugging Face's, which returns the model in eval
        mode: X is a class of transformers or diffusers, or a class of the run built on
        theirs. Another ``from_pretrained`` (a class the run cannot see) may do anything."""
        if factory.startswith(EVAL_MODE_LOADERS):
            return True
        located = self.index.lookup(factory.rsplit(".", 1)[0])
        return located is not None and any(
            base is not None and base.startswith(EVAL_MODE_LOADERS) for base in self.index.external_bases(located)
        )

    def on_new(
        self, state: State, path: str, site: str, target: str, args: tuple[Optional[str], ...], event: Bind
    ) -> None:
        located = self.index.lookup(target)
        torch_layer = module_layer(target)
        if located is None and LIBRARY_MODELS.match(target):
            # `GPT2LMHeadModel(config)`: a library's model, with layers the run cannot see
            # (none that depend on the mode for the families without dropout).
            obj = Obj(site, target if DROPOUT_FREE_MODELS.match(target) else None, path)
            self.bind(state, path, frozenset({obj}))
            why = f"`{path}` was built at line {LINE}"
            state.facts[obj] = frozenset({Fact(Mode.TRAIN, why, _places(event.place))})
            self.escape(state, [*args, *event.source.keywords])
            return
        if located is None and torch_layer is None:
            # An object from outside the run gets the model (transformers' Trainer, a
            # Lightning Trainer): anything may happen to its mode.
            self.escape(state, [*args, *event.source.keywords])
            self.bind(state, path, frozenset())
            return
        qualname = located.qualname if located is not None else target
        given = [*args, *event.source.keywords]
        # (A container also holds the parts of a model given as a parameter:
        # `nn.Sequential(*list(net.children())[:k])` of the caller's `net`.)
        container = torch_layer is not None and torch_layer.kind in _CONTAINERS
        parts = frozenset(
            o
            for p in given
            for o in self.lookup(state, p, create=False)
            if o.cls is not None or (container and o.site.startswith("entry:"))
        )
        obj = Obj(site, qualname, path, parts, built=not parts)
        why = f"`{path}` was built at line {LINE}"
        fresh = frozenset({Fact(Mode.TRAIN, why, _places(event.place))})
        if container and parts:
            # `nn.Sequential(backbone, head)` of models that exist keeps their modes.
            kept = frozenset(f for o in parts if self.analysis.mode_layers(o) for f in state.facts.get(o, ()))
            if any(not self.lookup(state, p, create=False) for p in given):
                kept |= {_UNKNOWN}
            state.facts[obj] = kept or fresh
        elif torch_layer is not None or (located is not None and self.index.is_module(located)):
            state.facts[obj] = fresh
        self.bind(state, path, frozenset({obj}))
        init = self.analysis.method(qualname, "__init__") if located is not None else None
        if init is not None:
            self.apply(state, init, (path, *args), (), event.place)

    def escape(self, state: State, paths: Sequence[Optional[str]]) -> None:
        for path in paths:
            objs = self.lookup(state, path, create=False)
            if objs:
                self.set_facts(state, objs, frozenset({_UNKNOWN}))
                state.spoiled |= objs

    def spoil(self, state: State, paths: Sequence[Optional[str]]) -> None:
        """The models given to code of the run that may train or load them."""
        for path in paths:
            state.spoiled |= self.lookup(state, path, create=False)

    def on_use(self, event: Use, state: State) -> None:
        objs = self.lookup(state, event.path)
        for obj in objs:
            own_call = self.analysis.method(obj.cls, "__call__") if obj.cls else None
            if own_call is not None:
                # Its class replaces `nn.Module.__call__` (ultralytics' `YOLO` predicts
                # through a predictor that switches the mode): what that method does counts.
                self.apply(state, own_call, (event.path,), (), event.place, event.evaluating)
                continue
            facts = state.facts.get(obj, frozenset())
            entry = event.place is not None and _ENTRY in facts and obj.site.startswith("entry:")
            if event.evaluating and state.model(obj) and not (event.noise and state.untrained(obj)):
                # (A model just built, run on made-up inputs, is a smoke test: its output
                # measures nothing, whatever its mode.)
                self._check(event, obj, facts, Mode.TRAIN)
                if entry:
                    self.summary.evaluates.append((obj.name, event.place))  # type: ignore[arg-type]
            if event.training:
                state.spoiled.add(obj)
                state.shown.add(obj)
                self._check(event, obj, facts, Mode.EVAL)
                if entry:
                    self.summary.trains.append((obj.name, event.place))  # type: ignore[arg-type]
            if entry and not (event.evaluating or event.training or event.noise):
                self.summary.runs.append((obj.name, event.place))  # type: ignore[arg-type]

    def _check(self, event: Use, obj: Obj, facts: frozenset[Fact], wrong: Mode, via: Optional[Via] = None) -> None:
        """Report a use of ``obj`` at ``event`` if it may be in the ``wrong`` mode there
        and that mode changes what it computes."""
        found = sorted((f for f in facts if f.mode is wrong), key=_fact_order)
        if not found or event.place is None:
            return
        if obj.cls and self.analysis.method(obj.cls, "__call__") is not None:
            return  # calling it runs its own `__call__`, not the model as it is (see on_use)
        layers = self.analysis.mode_layers(obj)
        if not layers:
            return
        path = event.path
        violation: ModeViolation
        if wrong is Mode.TRAIN:
            violation = EvalInTrainMode(event.place, path, found[0], layers, via)
        else:
            violation = TrainInEvalMode(event.place, path, found[0], layers, via)
        self.analysis.report(violation, self.function)

    def _own_method(self, event: SwitchMode, objs: frozenset[Obj]) -> Optional[FunctionKey]:
        """``runner.train()`` where the runner is no torch module but has its own method."""
        classes = {obj.cls for obj in objs if obj.cls}
        if event.path == "self" and self.function.cls:
            classes.add(self.function.cls)
        for cls in classes:
            located = self.index.lookup(cls)
            if located is None or self.index.is_module(located):
                continue
            method = self.analysis.method(cls, "eval" if event.mode is Switch.EVAL else "train")
            if method is not None:
                return method
        return None

    def on_method(self, event: MethodCall, state: State) -> None:
        receivers = self.lookup(state, event.path, create=self._root(event.path) in self.params)
        state.spoiled |= receivers
        self.spoil(state, [*event.args, *(value for _, value in event.keywords)])
        classes = {obj.cls for obj in receivers if obj.cls}
        if event.path == "self" and self.function.cls:
            classes.add(self.function.cls)
        for cls in classes:
            method = self.analysis.method(cls, event.method)
            if method is not None:
                self.apply(state, method, (event.path, *event.args), event.keywords, event.place, event.evaluating)
                return
        if not any(obj.cls is None or module_layer(obj.cls) for obj in receivers):
            # A method of an object from outside the run (`trainer.fit(model)`) may do
            # anything to the models it gets.
            self.escape(state, [*event.args, *(value for _, value in event.keywords)])
        if event.evaluating or event.training:
            # No such method: `self.model(x)` calls a model held in an attribute.
            self.on_use(Use(f"{event.path}.{event.method}", event.place, event.evaluating, event.training), state)
        elif event.place is not None and event.path == "self" and self.function.cls:
            # (or runs it, where the caller may evaluate: `return self.model(x)`)
            for obj in self.lookup(state, f"{event.path}.{event.method}"):
                if obj.site.startswith("entry:") and _ENTRY in state.facts.get(obj, frozenset()):
                    self.summary.runs.append((obj.name, event.place))

    def on_call(self, event: Call, state: State) -> None:
        callee = event.callee
        name = self.index.resolve(callee)
        function = self.analysis.functions.find(name, self.file)
        if function is not None:
            self.spoil(state, [*event.args, *(value for _, value in event.keywords)])
            self.apply(state, function, event.args, event.keywords, event.place, event.evaluating)
            return
        if name is not None:
            return  # a function of the run that does nothing to any mode
        if callee in READ_ONLY_FUNCTIONS or callee.rsplit(".", 1)[-1] in READ_ONLY_FUNCTIONS or callee in WRAPPERS:
            return  # (a wrapper shares the model's mode: its binding says so)
        self.escape(state, [*event.args, *(value for _, value in event.keywords)])

    def apply(
        self,
        state: State,
        key: FunctionKey,
        args: Sequence[Optional[str]],
        keywords: Sequence[tuple[str, Optional[str]]],
        at: Optional[Place],
        evaluating: bool = False,
    ) -> None:
        """Apply a callee's summary at a call (``evaluating``: where the caller evaluates
        what the call runs): map its parameters onto the arguments."""
        function = self.analysis.functions[key]
        mapping: dict[str, str] = {}
        for param, arg in zip(function.params, args):
            if arg is not None:
                mapping[param] = arg
        for keyword, value in keywords:
            if keyword in function.params and value is not None:
                mapping[keyword] = value
        if key[0] == self.file:
            # The module's names are the caller's too, unless it binds its own.
            top = self.function.qualname.endswith(".<module>")
            for name in function.globals:
                if top or name in self.function.globals:
                    mapping.setdefault(name, name)
        summary = self.analysis.summary(key)
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

        for uses, wrong, passed in ((summary.evaluates, Mode.TRAIN, self.summary.evaluates), (summary.trains, Mode.EVAL, self.summary.trains)):
            for path, place in uses:
                target = caller_path(path)
                if target is not None and at is not None:
                    self._used_by_callee(state, target, at, wrong, passed, Via(short, place))
        for path, place in summary.runs:
            # `with torch.no_grad(): acc = accuracy(model, loader)`: the helper runs the
            # model as it comes, and the caller evaluates what it computes.
            target = caller_path(path)
            if target is None or at is None:
                continue
            if evaluating:
                self._used_by_callee(state, target, at, Mode.TRAIN, self.summary.evaluates, Via(short, place))
                continue
            for obj in self.lookup(state, target):
                if obj.site.startswith("entry:") and _ENTRY in state.facts.get(obj, frozenset()):
                    self.summary.runs.append((obj.name, at))
        for path, place, flag in summary.phased:
            # `_run_epoch(test_loader, train=False)`: the flag the caller passes decides.
            value = dict(keywords).get(flag)
            if value is None and flag in function.params[: len(args)]:
                value = args[function.params.index(flag)]
            target = caller_path(path)
            if value not in ("True", "False") or target is None or at is None:
                continue
            wrong, passed = (Mode.EVAL, self.summary.trains) if value == "True" else (Mode.TRAIN, self.summary.evaluates)
            self._used_by_callee(state, target, at, wrong, passed, Via(short, place))
        for self_path, param_path in summary.stores.items():
            holder, stored = caller_path(self_path), caller_path(param_path)
            if holder is not None and stored is not None:
                self.bind(state, holder, self.lookup(state, stored))
        for self_path, made in summary.creates.items():
            holder = caller_path(self_path)
            if holder is not None:
                self.bind(state, holder, made)
                state.spoiled |= made
                for obj in made:
                    state.facts[obj] = summary.created[obj]
        for path, facts in summary.effects.items():
            target = caller_path(path)
            if target is None:
                continue
            objs = self.lookup(state, target)
            for obj in objs:
                before = state.facts.get(obj, frozenset())
                after: set[Fact] = set()
                for fact in facts:
                    if fact.mode is Mode.ENTRY:
                        after |= before
                    elif fact.mode is Mode.UNKNOWN:
                        after.add(fact)
                    else:
                        why = f"{fact.why}, via `{short}()` at line {LINE}"
                        after.add(Fact(fact.mode, why, (*fact.places, *_places(at))))
                state.facts[obj] = frozenset(after)

    def _used_by_callee(
        self, state: State, target: str, at: Place, wrong: Mode, passed: list[tuple[str, Place]], via: Via
    ) -> None:
        """A callee evaluates or trains the caller's ``target`` (``wrong`` is the mode that
        would be a mistake there): check it here, and pass a parameter's use on to this
        function's own callers."""
        for obj in self.lookup(state, target):
            facts = state.facts.get(obj, frozenset())
            if state.model(obj):
                self._check(Use(target, at), obj, facts, wrong, via)
            if _ENTRY in facts and obj.site.startswith("entry:"):
                passed.append((obj.name, at))

    def on_export(self, event: Export, state: State) -> None:
        keywords = dict(event.keywords)
        if event.api == "torch.onnx.export":
            training = keywords.get("training")
            if training is not None and "TRAINING" not in training and "PRESERVE" not in training:
                return  # the mode is chosen (`TrainingMode.EVAL`, or a variable: on purpose)
            if training is None and keywords.get("dynamo") == "False":
                return  # the TorchScript exporter switches to eval by default
            # The dynamo exporter (the default since torch 2.9) keeps the model's mode.
        for obj in self.lookup(state, event.path):
            facts = state.facts.get(obj, frozenset())
            wrong = sorted((f for f in facts if f.mode is Mode.TRAIN), key=_fact_order)
            if not wrong or event.place is None or event.path is None:
                continue
            layers = self.analysis.mode_layers(obj)
            if layers:
                api = EXPORTS.get(event.api, event.api)
                self.analysis.report(ExportInTrainMode(event.place, event.path, api, wrong[0], layers), self.function)


def _places(place: Optional[Place]) -> tuple[Place, ...]:
    return (place,) if place is not None else ()


def _may_load(events: Sequence[Event]) -> bool:
    """Whether a factory may give the model it builds other weights than those it starts
    with: it calls anything (`torch.load`, `load_state_dict_from_url`) or any method."""
    for event in events:
        if isinstance(event, (Call, MethodCall)) or (isinstance(event, Touch) and event.method in WEIGHT_CHANGERS):
            return True
        if any(_may_load(block) for block in blocks(event)):
            return True
    return False


def _unhandled(event: NoReturn) -> NoReturn:
    """mypy reports a call here unless every kind of event is handled before it."""
    raise AssertionError(f"no rule for the event {event!r}")


def mode_violations(index: ProjectIndex) -> list[ModeViolation]:
    """Every train/eval mode violation of the run (computed once per index)."""
    return index.shared("modes", lambda: ModeAnalysis(index).run())
