"""What a function does to the train/eval mode of models, as plain data.

Each function (and each file's top-level code) becomes a list of ``Event``s in source
order, nested like the control flow: a model is built or bound, switched with
``.train()``/``.eval()``, called (used) for evaluation or training, handed to another
function, exported, and the ``if``/loop/``with``/``try`` structure around them. The
events are built per file while it is parsed (``modes_builder``); the mode analysis
(``project.modes``) interprets them after the whole run is summarised, so that a helper
defined in one file is understood where another file calls it. This module imports no
libcst: the analysis runs over cached summaries too.
"""

from __future__ import annotations

import enum
from dataclasses import replace
from typing import Optional, Union

from dropout_lint.blobs import Blob
from dropout_lint.project.place import Place
from dropout_lint.records import record


class SourceKind(enum.Enum):
    """Where a bound value comes from."""

    NEW = "new"  # a class is built: `Net(...)`
    TRAIN = "train"  # a factory's new model: `timm.create_model(...)`
    # A factory of whatever a configuration names (`hydra.utils.instantiate(cfg.model)`,
    # `getattr(models, name)(...)`): a new model in training mode, if it is a model.
    CONFIGURED = "configured"
    EVAL = "eval"  # `X.from_pretrained(...)`: in eval mode when it is Hugging Face's
    UNKNOWN = "unknown"  # `torch.load(...)`: a model in a mode not known
    ALIAS = "alias"  # another name for an object: `net = model`, `model.to(device)`
    CALL = "call"  # what a function returns
    OTHER = "other"


@record
class Source:
    kind: SourceKind
    target: Optional[str] = None  # the class or function called; the aliased path
    args: tuple[Optional[str], ...] = ()  # positional arguments (paths)
    keywords: tuple[Optional[str], ...] = ()  # keyword arguments' values (paths)


class Switch(enum.Enum):
    """The mode a `.train()`/`.eval()` call switches to."""

    TRAIN = "training"
    EVAL = "eval"


Arguments = tuple[Optional[str], ...]  # positional arguments, as paths (None: not a name)
Keywords = tuple[tuple[str, Optional[str]], ...]


# The events. Each kind is a record class of its own; ``Event`` is their union, and the
# analysis dispatches on the class (mypy checks that every kind is handled).


@record
class Bind:
    """``path = <source>``."""

    path: str
    source: Source
    place: Optional[Place] = None
    made: Optional[Place] = None  # the call that builds the value: `Net(...)` of `model = Net(...)`


@record
class SwitchMode:
    """``model.train()``/``model.eval()`` (or a context manager's switch for its block)."""

    path: str
    mode: Optional[Switch]  # None: `model.train(flag)` with a flag not known
    place: Optional[Place]
    text: str


@record
class Touch:
    """An ``nn.Module`` method that keeps the mode (``model.to(device)``): a model."""

    path: str
    method: str
    place: Optional[Place]


@record
class Save:
    """``was_training = model.training``."""

    path: str
    flag: str


@record
class Restore:
    """``model.train(was_training)``, or ``if was_training: model.train()``."""

    path: str
    flag: str
    place: Optional[Place]


@record
class Use:
    """A model called: a forward pass that evaluates, trains, or neither."""

    path: str
    place: Optional[Place]
    evaluating: bool = False
    training: bool = False
    noise: bool = False  # its inputs are made up (`torch.randn(...)`)


@record
class Phased:
    """A model called in a loop that a flag parameter makes train or evaluate."""

    path: str
    place: Optional[Place]
    flag: str


@record
class MethodCall:
    """``receiver.method(...)``: the receiver's own method, or a model held in an
    attribute (``self.model(x)``); the analysis tells which once classes are known."""

    path: str
    method: str
    args: Arguments
    keywords: Keywords
    place: Optional[Place]
    evaluating: bool = False
    training: bool = False


@record
class Call:
    """A function called, with the names it is given."""

    callee: str
    args: Arguments
    keywords: Keywords
    place: Optional[Place]
    evaluating: bool = False  # where a call of a model would evaluate it (under no_grad with metrics...)


@record
class Export:
    """``torch.jit.trace(model, ...)``, ``torch.onnx.export(model, ...)``..."""

    path: Optional[str]
    api: str
    keywords: Keywords
    place: Optional[Place]


@record
class Step:
    """A training step: ``loss.backward()``, ``optimizer.step()``."""

    place: Optional[Place]


@record
class Branch:
    """``if``/``else``: one of the two runs."""

    body: tuple[Event, ...]
    orelse: tuple[Event, ...] = ()


@record
class Loop:
    body: tuple[Event, ...]
    orelse: tuple[Event, ...] = ()


@record
class Scoped:
    """A block after which the ``held`` models are switched back to their modes."""

    body: tuple[Event, ...]
    held: tuple[str, ...]


@record
class Try:
    body: tuple[Event, ...]
    orelse: tuple[Event, ...] = ()
    handlers: tuple[tuple[Event, ...], ...] = ()
    final: tuple[Event, ...] = ()  # a `finally` block: it runs on every way out


class Leaving(enum.Enum):
    RETURN = "return"  # the function is left
    RAISE = "raise"  # left too, giving nothing back
    BREAK = "break"
    CONTINUE = "continue"


@record
class Inline:
    """A nested function's body, run where the enclosing function calls it (or hands it
    to a call that may): its ``return`` ends only it, and its parameters are its own."""

    body: tuple[Event, ...]
    params: tuple[str, ...] = ()


@record
class Leave:
    """``return``, ``raise``, ``break`` or ``continue``."""

    how: Leaving
    value: Optional[str] = None  # the object returned, as a path (`return model`)


Event = Union[
    Bind, SwitchMode, Touch, Save, Restore, Use, Phased, MethodCall, Call, Export, Step,
    Branch, Loop, Scoped, Try, Inline, Leave,
]  # fmt: skip


def blocks(event: Event) -> tuple[tuple[Event, ...], ...]:
    """The blocks of events nested in a compound event (none in a simple one)."""
    if isinstance(event, (Branch, Loop)):
        return (event.body, event.orelse)
    if isinstance(event, (Scoped, Inline)):
        return (event.body,)
    if isinstance(event, Try):
        return (event.body, event.orelse, event.final, *event.handlers)
    return ()


@record
class ModeFunction:
    """A function's events, with what the analysis needs to map calls onto it."""

    qualname: str
    cls: Optional[str]  # the class it is a method of
    params: tuple[str, ...]  # positional parameters, `self` included
    events: tuple[Event, ...]
    place: Optional[Place] = None
    module: str = ""
    # The module's names the function reads without binding them: its models may be
    # globals (`model = Net()` at the top of a script, used in `def test():`).
    globals: frozenset[str] = frozenset()
    packed: Optional[Blob[tuple[Event, ...]]] = None  # the events, pickled (see ``pack``); ``events`` is then empty

    def pack(self) -> ModeFunction:
        """This function with its events pickled. The analysis reads a function's events
        once, to summarise it, and then only that summary; kept as objects they were a
        third of a project's summaries in memory, and pickled they take a quarter of
        that. (Their equal strings are not made one object first, as the summary's are:
        that made the pickles 9 % smaller and linting a file 3 % slower.)"""
        return replace(self, events=(), packed=Blob.of(self.events))

    def body(self) -> tuple[Event, ...]:
        """The events (unpickled again on each call when packed)."""
        return self.packed.load() if self.packed is not None else self.events


def prune(events: tuple[Event, ...], layers: frozenset[str]) -> tuple[Event, ...]:
    """A method's events with the calls of its own parts as uses of the models held
    there: ``self.drop(x)`` in ``forward`` runs a part, ``self.model(x)`` in an
    evaluator's method the model it holds."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, MethodCall) and event.path == "self" and event.method in layers:
            # (A run of the part that neither evaluates nor trains still runs it: where a
            # caller evaluates what the method computes, it evaluates the part.)
            out.append(Use(f"self.{event.method}", event.place, event.evaluating, event.training))
            continue
        if isinstance(event, Use) and not (event.evaluating or event.training):
            continue
        if isinstance(event, (Branch, Loop)):
            event = replace(event, body=prune(event.body, layers), orelse=prune(event.orelse, layers))
        elif isinstance(event, (Scoped, Inline)):
            event = replace(event, body=prune(event.body, layers))
        elif isinstance(event, Try):
            event = Try(
                prune(event.body, layers),
                prune(event.orelse, layers),
                tuple(prune(h, layers) for h in event.handlers),
                prune(event.final, layers),
            )
        out.append(event)
    return tuple(out)


_ACTIVE = (SwitchMode, Touch, Step, Export, Scoped, Use, MethodCall, Save, Restore, Phased)


def active(events: tuple[Event, ...]) -> bool:
    """Whether a function does anything the mode analysis follows."""
    for event in events:
        if isinstance(event, _ACTIVE):
            return True
        if isinstance(event, Call) and not _inert_call(event):
            return True
        if isinstance(event, Bind):
            if event.source.kind in (SourceKind.NEW, SourceKind.TRAIN, SourceKind.CONFIGURED, SourceKind.EVAL):
                return True
            if event.source.kind is SourceKind.ALIAS and event.path.startswith("self."):
                return True  # `self.model = model`: an object that holds a model
        if any(active(block) for block in blocks(event)):
            return True
    return False


def _inert_call(event: Call) -> bool:
    """A torch or builtin function given no names: nothing to follow."""
    callee = event.callee
    return (callee.startswith("torch.") or "." not in callee) and not any(event.args) and not any(
        value for _, value in event.keywords
    )
