"""Watching a forward pass: every module call, every functional dropout, every random draw.

Global module hooks see each module call, dropout modules kept in a plain list
included (per-module hooks would miss those); a ``TorchFunctionMode`` sees each
functional dropout, attention with ``dropout_p``, and torch's random draws. Draws
from Python's ``random`` are seen by a profile function (``c_call`` of a
``random.Random`` method, however it was imported), draws from NumPy's global
generator by wrapping the functions of ``numpy.random`` for the pass. Reads of a
dropout module's rate (``self.attn_drop.p``, handed to a fused attention kernel) are
seen by giving the module, for the training pass, a subclass whose ``p`` is a
property. Everything installed is removed when the pass ends.

A stack of the modules being run attributes each call to the module whose
``forward`` made it, and the first stack frame outside torch, NumPy, ``random`` and
dropout-lint gives its line.
"""

from __future__ import annotations

import math
import os
import random
import re
import sys
import weakref
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd
from torch.overrides import TorchFunctionMode

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_RANDOM_FILE = os.path.abspath(random.__file__)
_SKIPPED: tuple[str, ...] = (_TORCH_DIR + os.sep, _PACKAGE_DIR + os.sep)
try:
    import numpy

    _SKIPPED += (os.path.dirname(os.path.abspath(numpy.__file__)) + os.sep,)
except ImportError:  # NumPy is optional: without it there are no NumPy draws to watch
    numpy = None  # type: ignore[assignment]

# name -> (index of p, keyword of p, index of the flag, keyword of the flag, default flag)
_FUNCTIONAL: dict[str, tuple[int, str, int, str, Optional[bool]]] = {
    "dropout": (1, "p", 2, "training", True),
    "dropout1d": (1, "p", 2, "training", True),
    "dropout2d": (1, "p", 2, "training", True),
    "dropout3d": (1, "p", 2, "training", True),
    "alpha_dropout": (1, "p", 2, "training", False),
    "feature_alpha_dropout": (1, "p", 2, "training", False),
    "feature_dropout": (1, "p", 2, "train", None),
    "native_dropout": (1, "p", 2, "train", None),
}
_ATTENTION = {"scaled_dot_product_attention": (4, "dropout_p")}
# Torch functions and tensor methods that draw from a random number generator.
_RANDOM = frozenset(
    {"rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "bernoulli", "bernoulli_",
     "normal", "normal_", "uniform_", "multinomial", "randperm", "exponential_", "geometric_", "cauchy_",
     "log_normal_", "random_", "poisson", "binomial", "_standard_gamma", "_sample_dirichlet"}
)
# Functions that draw only when a flag says so: name -> (index, keyword, default) of the flag.
_FLAGGED = {"rrelu": (4, "training", False), "rrelu_": (4, "training", False)}
# The C methods of ``random.Random`` every draw of Python's ``random`` goes through.
_PYTHON_DRAWS = frozenset({"random", "getrandbits"})
# Methods of the shared generators that set or read their state rather than draw.
_STATE = frozenset(
    {"seed", "get_state", "set_state", "getstate", "setstate", "get_bit_generator", "set_bit_generator"}
)


def user_frame(filename: str) -> bool:
    """Whether code in this file is the user's: not torch, NumPy, ``random`` or dropout-lint."""
    if filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    return not path.startswith(_SKIPPED) and path != _RANDOM_FILE


def call_site(frame: Optional[Any] = None) -> tuple[Optional[str], Optional[int]]:
    """The first frame of the user's code, from ``frame`` (the caller's by default) outwards."""
    frame = frame if frame is not None else sys._getframe(1)
    while frame is not None:
        if user_frame(frame.f_code.co_filename):
            return os.path.abspath(frame.f_code.co_filename), frame.f_lineno
        frame = frame.f_back
    return None, None


def tensors(value: Any) -> Iterator[Tensor]:
    """Every tensor in a value (nested tuples, lists and dicts)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from tensors(item)


@dataclass
class DropoutCall:
    """One call of a dropout: a module (``nn.Dropout`` and friends) or a function."""

    phase: str
    kind: str  # "module", "function", "attention"
    name: str  # the module's name in the model, or the function's name
    cls: str
    p: Optional[float]
    active: bool  # its flag was on (it would drop)
    owner: str  # the module whose forward made the call
    file: Optional[str]
    line: Optional[int]
    raw_input: bool = False
    measured: Optional[float] = None  # fraction dropped among non-zero inputs
    measured_n: int = 0
    changed: Optional[bool] = None  # the output differs from the input
    flag: Optional[bool] = None  # the training flag the call was given (functions)
    owner_training: Optional[bool] = None  # the owner module's own mode at the call


@dataclass
class RandomCall:
    """One random draw: a torch random op, Python's ``random`` or NumPy's."""

    name: str
    owner: str
    file: Optional[str]
    line: Optional[int]
    private: bool = False  # from a generator of the model's own (``generator=``, ``random.Random(0)``)
    dropout: bool = False  # a dropout that drops (module, function or attention), not a plain random op


class _Functions(TorchFunctionMode):
    def __init__(self, recorder: Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func: Callable[..., Any], types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        try:
            self.recorder.on_function(func, args, kwargs, result)
        except Exception:  # watching must never change what the model computes
            pass
        return result


@dataclass
class Recorder:
    """Collects what one forward pass does; installed with ``watch()``."""

    model: nn.Module
    phase: str = "train"
    measure: bool = True
    draws: bool = False  # watch Python's and NumPy's random draws too
    rates: bool = False  # watch reads of the dropout modules' rates
    names: dict[int, str] = field(default_factory=dict)
    calls: list[DropoutCall] = field(default_factory=list)
    randoms: list[RandomCall] = field(default_factory=list)
    called: set[int] = field(default_factory=set)
    rate_read: set[int] = field(default_factory=set)  # dropout modules whose p the user's code read
    ranks: dict[int, int] = field(default_factory=dict)  # the rank of each module's first input
    raw: set[int] = field(default_factory=set)  # storage of the model's inputs
    # What each dropout call returned, while it lives: a freed tensor's memory may be
    # reused, so comparing addresses alone could match an unrelated output.
    made: list[tuple[DropoutCall, weakref.ReferenceType[Tensor]]] = field(default_factory=list)
    unregistered: dict[int, str] = field(default_factory=dict)  # names given to modules outside the tree
    stack: list[nn.Module] = field(default_factory=list)
    sites: dict[int, tuple[Optional[str], Optional[int]]] = field(default_factory=dict)  # where modules are called
    _inputs: dict[int, list[Tensor]] = field(default_factory=dict)
    # Pinning (see Pinning): replaces module inputs, compares outputs.
    pinning: Optional[Pinning] = None

    def __post_init__(self) -> None:
        root = type(self.model).__name__
        self.names = {id(module): name or root for name, module in self.model.named_modules()}

    def name_of(self, module: nn.Module) -> str:
        found = self.names.get(id(module)) or self.unregistered.get(id(module))
        if found is not None:
            return found
        name = self.unregistered[id(module)] = f"{self.owner()}.<unregistered {type(module).__name__}>"
        return name

    def owner_module(self) -> Optional[nn.Module]:
        for module in reversed(self.stack):
            if not isinstance(module, _DropoutNd):
                return module
        return None

    def owner(self) -> str:
        module = self.owner_module()
        return self.name_of(module) if module is not None else type(self.model).__name__

    # Module hooks.

    def pre(self, module: nn.Module, args: tuple[Any, ...]) -> Optional[tuple[Any, ...]]:
        self.called.add(id(module))
        self.name_of(module)
        first = next(tensors(args), None)
        if first is not None:
            self.ranks.setdefault(id(module), first.dim())
        if self.pinning is not None:
            self.sites.setdefault(id(module), call_site())
            args = self.pinning.before(module, args, self.stack[-1] if self.stack else None)
        self.stack.append(module)
        if isinstance(module, _DropoutNd) and self.measure and first is not None:
            self._inputs[id(module)] = [first.detach().clone()]
        return args if self.pinning is not None else None

    def post(self, module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if self.stack and self.stack[-1] is module:
            self.stack.pop()
        if self.pinning is not None:
            self.pinning.after(module, output, self.stack)
        if not isinstance(module, _DropoutNd):
            return
        file, line = call_site()
        first_in = next(tensors(args), None)
        first_out = output if isinstance(output, Tensor) else None
        p = float(module.__dict__.get("p", 0.0))
        call = DropoutCall(
            phase=self.phase,
            kind="module",
            name=self.name_of(module),
            cls=type(module).__name__,
            p=p,
            active=bool(module.training) and p > 0,
            owner=self.owner(),
            file=file,
            line=line,
            raw_input=first_in is not None and storage_of(first_in) in self.raw,
        )
        if first_out is not None:
            self.made.append((call, weakref.ref(first_out)))
        before = self._inputs.pop(id(module), None)
        if self.measure and before and first_out is not None and first_out.shape == before[0].shape:
            _measure(call, before[0], first_out.detach(), "Alpha" in call.cls)
        if call.active:
            self.randoms.append(RandomCall(call.name, call.owner, file, line, dropout=True))
        self.calls.append(call)

    # Functions.

    def on_function(self, func: Callable[..., Any], args: Any, kwargs: Any, result: Any) -> None:
        name = getattr(func, "__name__", "")
        if self.stack and isinstance(self.stack[-1], _DropoutNd):
            return  # nn.Dropout's own F.dropout: the module call is recorded
        if name in _FUNCTIONAL:
            self._functional(name, args, kwargs, result)
        elif name in _ATTENTION:
            index, keyword = _ATTENTION[name]
            p = _argument(args, kwargs, index, keyword, 0.0)
            file, line = call_site()
            owner = self.owner_module()
            call = DropoutCall(
                phase=self.phase,
                kind="attention",
                name=f"F.{name}",
                cls=name,
                p=float(p) if isinstance(p, (int, float)) else None,
                active=bool(p),
                owner=self.owner(),
                file=file,
                line=line,
                owner_training=None if owner is None else owner.training,
            )
            self.calls.append(call)
            if call.active:
                self.randoms.append(RandomCall(call.name, call.owner, file, line, dropout=True))
        elif name in _RANDOM or (name in _FLAGGED and _argument(args, kwargs, *_FLAGGED[name])):
            generator = kwargs.get("generator")
            private = generator is not None and generator is not torch.default_generator
            file, line = call_site()
            self.randoms.append(RandomCall(name, self.owner(), file, line, private))

    def _functional(self, name: str, args: Any, kwargs: Any, result: Any) -> None:
        p_index, p_name, flag_index, flag_name, default = _FUNCTIONAL[name]
        p = _argument(args, kwargs, p_index, p_name, 0.5)
        flag = _argument(args, kwargs, flag_index, flag_name, default)
        file, line = call_site()
        first_in = next(tensors(args), None)
        out = result[0] if isinstance(result, tuple) else result
        owner = self.owner_module()
        call = DropoutCall(
            phase=self.phase,
            kind="function",
            name=f"F.{name}" if name != "native_dropout" and name != "feature_dropout" else f"torch.{name}",
            cls=name,
            p=float(p) if isinstance(p, (int, float)) else None,
            active=bool(flag) and bool(p),
            owner=self.owner(),
            file=file,
            line=line,
            raw_input=first_in is not None and storage_of(first_in) in self.raw,
            flag=bool(flag),
            owner_training=None if owner is None else owner.training,
        )
        if isinstance(out, Tensor):
            self.made.append((call, weakref.ref(out)))
        if self.measure and first_in is not None and isinstance(out, Tensor) and out.shape == first_in.shape:
            _measure(call, first_in.detach(), out.detach(), "alpha" in name)
        self.calls.append(call)
        if call.active:
            self.randoms.append(RandomCall(call.name, call.owner, file, line, dropout=True))

    # Draws outside torch, and rates read.

    def on_python_draw(self, name: str, private: bool, frame: Any) -> None:
        file, line = call_site(frame)
        self.randoms.append(RandomCall(name, self.owner(), file, line, private))

    def on_rate_read(self, module: nn.Module) -> None:
        self.rate_read.add(id(module))


def storage_of(tensor: Tensor) -> int:
    """The storage a tensor views (a reshape of the input shares the input's). Meta
    tensors have no storage: each is its own."""
    if tensor.device.type == "meta":
        return id(tensor)
    try:
        return int(tensor.untyped_storage().data_ptr())
    except Exception:
        return id(tensor)


def _argument(args: Any, kwargs: Any, index: int, keyword: str, default: Any) -> Any:
    if keyword in kwargs:
        return kwargs[keyword]
    if len(args) > index:
        return args[index]
    return default


def _together(name: str, shape: Sequence[int]) -> int:
    """How many values channel dropout (``Dropout2d``, ``feature_alpha_dropout``...)
    drops as one: a whole channel. 1 for element-wise dropout."""
    match = re.search(r"([123])d$", name)
    if match is not None:
        dims = int(match.group(1))
        spatial = shape[-dims:] if len(shape) in (dims + 1, dims + 2) else ()
    elif "feature" in name.lower():
        spatial = shape[2:]
    else:
        return 1
    return max(1, math.prod(spatial))


def _measure(call: DropoutCall, before: Tensor, after: Tensor, alpha: bool) -> None:
    if before.device.type == "meta" or not before.is_floating_point():
        return
    if alpha:
        # Dropped units share one value: the most common value of the output.
        _, counts = after.reshape(-1).unique(return_counts=True)  # type: ignore[no-untyped-call]
        if counts.numel() == 0:
            return
        call.measured = float(counts.max()) / after.numel()
        call.measured_n = after.numel() // _together(call.cls, after.shape)
    else:
        live = before != 0
        n = int(live.sum())
        if n:
            call.measured = float(((after == 0) & live).sum()) / n
            call.measured_n = n // _together(call.cls, after.shape)
    call.changed = not torch.equal(before, after)


class Pinning:
    """Feeds every module the inputs it got in a reference pass and compares what it
    returns: a module whose output changes although its inputs did not is where
    randomness enters (while its children still match); so is a module whose own code
    hands a child other inputs than in the reference pass."""

    def __init__(self) -> None:
        self.recording = True
        self.inputs: list[tuple[int, tuple[Any, ...]]] = []
        self.outputs: list[tuple[int, Any]] = []
        self.index_in = 0
        self.index_out = 0
        self.differs: list[nn.Module] = []  # modules whose output differed, in completion order
        self.explained: set[int] = set()  # callers of a module whose output differed
        self.blamed: set[int] = set()

    def before(self, module: nn.Module, args: tuple[Any, ...], caller: Optional[nn.Module]) -> tuple[Any, ...]:
        if self.recording:
            self.inputs.append((id(module), _clone(args)))
            return args
        index = self.index_in
        self.index_in += 1
        if index < len(self.inputs) and self.inputs[index][0] == id(module):
            if (
                caller is not None
                and id(caller) not in self.explained
                and id(caller) not in self.blamed
                and not same_output(self.inputs[index][1], args)
            ):
                # Its caller's own code (between module calls) changed the values.
                self.differs.append(caller)
                self.blamed.add(id(caller))
            return tuple(_clone(self.inputs[index][1]))
        return args

    def after(self, module: nn.Module, output: Any, callers: list[nn.Module]) -> None:
        if self.recording:
            self.outputs.append((id(module), _clone(output)))
            return
        index = self.index_out
        self.index_out += 1
        if index < len(self.outputs) and self.outputs[index][0] == id(module):
            if not same_output(self.outputs[index][1], output):
                self.differs.append(module)
                self.explained.update(id(caller) for caller in callers)


def _clone(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(_clone(v) for v in value)
    if isinstance(value, list):
        return [_clone(v) for v in value]
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def same_output(a: Any, b: Any) -> bool:
    """Whether two outputs hold the same tensors, bit for bit."""
    left, right = list(tensors(a)), list(tensors(b))
    if len(left) != len(right):
        return False
    return all(x.shape == y.shape and torch.equal(x, y) for x, y in zip(left, right))


class _RateProperty:
    """``p`` of a watched dropout module: reads by the user's code are recorded."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def __get__(self, module: Any, owner: Any = None) -> Any:
        if module is None:
            return self
        if user_frame(sys._getframe(1).f_code.co_filename):
            self.recorder.on_rate_read(module)
        return module.__dict__["p"]

    def __set__(self, module: Any, value: Any) -> None:
        module.__dict__["p"] = value


@contextmanager
def _rates(recorder: Recorder) -> Iterator[None]:
    """Give each registered dropout module, for the pass, a subclass (of the same name)
    whose ``p`` records reads."""
    swapped: list[tuple[nn.Module, type]] = []
    subclasses: dict[type, type] = {}
    try:
        for module in recorder.model.modules():
            if not isinstance(module, _DropoutNd) or "p" not in module.__dict__:
                continue
            cls = type(module)
            if cls not in subclasses:
                namespace = {"p": _RateProperty(recorder), "__module__": cls.__module__, "__qualname__": cls.__qualname__}
                subclasses[cls] = type(cls.__name__, (cls,), namespace)
            try:
                module.__class__ = subclasses[cls]
            except TypeError:  # a class whose layout forbids it (scripted): its reads go unseen
                continue
            swapped.append((module, cls))
        yield
    finally:
        for module, cls in swapped:
            module.__class__ = cls


@contextmanager
def _python_draws(recorder: Recorder) -> Iterator[None]:
    """See every draw from a ``random.Random`` (the module's functions, however
    imported, or an instance of the model's own) through a profile function. Under a
    profiler written in C (cProfile), which cannot be chained nor put back by
    ``sys.setprofile``, the functions of the ``random`` module are wrapped instead."""
    previous = sys.getprofile()
    if previous is not None and not callable(previous):
        with _module_draws(recorder, random, random._inst, "random"):
            yield
        return
    shared = random._inst

    def profile(frame: Any, event: Any, arg: Any) -> None:
        if event == "c_call" and getattr(arg, "__name__", "") in _PYTHON_DRAWS:
            generator = getattr(arg, "__self__", None)
            if isinstance(generator, random.Random):
                recorder.on_python_draw(f"random.{arg.__name__}", generator is not shared, frame)
        if previous is not None:
            previous(frame, event, arg)

    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


@contextmanager
def _numpy_draws(recorder: Recorder) -> Iterator[None]:
    """Wrap the functions of ``numpy.random`` that draw from its global generator."""
    if numpy is None:
        yield
        return
    with _module_draws(recorder, numpy.random, getattr(numpy.random.mtrand, "_rand", None), "numpy.random"):
        yield


@contextmanager
def _module_draws(recorder: Recorder, module: Any, shared: Any, prefix: str) -> Iterator[None]:
    """Wrap, for the pass, a module's functions that are methods of its shared generator."""
    wrapped: dict[str, Any] = {}
    for name in dir(module):
        function = getattr(module, name)
        if name in _STATE or shared is None or getattr(function, "__self__", None) is not shared:
            continue
        wrapped[name] = function
        setattr(module, name, _wrapper(recorder, f"{prefix}.{name}", function))
    try:
        yield
    finally:
        for name, function in wrapped.items():
            setattr(module, name, function)


def _wrapper(recorder: Recorder, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def draw(*args: Any, **kwargs: Any) -> Any:
        recorder.on_python_draw(name, False, sys._getframe(1))
        return function(*args, **kwargs)

    return draw


@contextmanager
def watch(recorder: Recorder) -> Iterator[Recorder]:
    """Install the global hooks and the function mode for one pass (and, as the
    recorder asks, the watchers of rates and of draws outside torch)."""
    pre = torch.nn.modules.module.register_module_forward_pre_hook(recorder.pre)  # type: ignore[arg-type]
    post = torch.nn.modules.module.register_module_forward_hook(recorder.post, always_call=True)
    try:
        with ExitStack() as stack:
            if recorder.rates:
                stack.enter_context(_rates(recorder))
            if recorder.draws:
                stack.enter_context(_numpy_draws(recorder))
                stack.enter_context(_python_draws(recorder))
            stack.enter_context(_Functions(recorder))
            yield recorder
    finally:
        pre.remove()
        post.remove()
