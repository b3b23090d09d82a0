"""Watching a forward pass: every module call and every functional dropout.

Global module hooks see each module call, dropout modules kept in a plain list
included (per-module hooks would miss those); a ``TorchFunctionMode`` sees each
functional dropout, attention with ``dropout_p``, and random draws. A stack of the
modules being run attributes each functional call to the module whose ``forward``
made it, and the first stack frame outside torch and the tracer gives its line.
"""

from __future__ import annotations

import math
import os
import re
import sys
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd
from torch.overrides import TorchFunctionMode

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))
_TRACER_DIR = os.path.dirname(os.path.abspath(__file__))

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
_RANDOM = frozenset(
    {"rand", "rand_like", "randn", "randn_like", "randint", "randint_like", "bernoulli", "bernoulli_",
     "normal", "normal_", "uniform_", "multinomial", "randperm", "exponential_", "geometric_"}
)


def call_site() -> tuple[Optional[str], Optional[int]]:
    """The first frame of the user's code: outside torch and this tracer."""
    frame = sys._getframe(1)
    while frame is not None:
        raw = frame.f_code.co_filename
        filename = os.path.abspath(raw)
        if not raw.startswith("<") and not filename.startswith((_TORCH_DIR, _TRACER_DIR)):
            return filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
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


@dataclass
class RandomCall:
    name: str
    owner: str
    file: Optional[str]
    line: Optional[int]


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
    names: dict[int, str] = field(default_factory=dict)
    calls: list[DropoutCall] = field(default_factory=list)
    randoms: list[RandomCall] = field(default_factory=list)
    called: set[int] = field(default_factory=set)
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

    def owner(self) -> str:
        for module in reversed(self.stack):
            if not isinstance(module, _DropoutNd):
                return self.name_of(module)
        return type(self.model).__name__

    # Module hooks.

    def pre(self, module: nn.Module, args: tuple[Any, ...]) -> Optional[tuple[Any, ...]]:
        self.called.add(id(module))
        self.name_of(module)
        if self.pinning is not None:
            self.sites.setdefault(id(module), call_site())
            args = self.pinning.before(module, args, self.stack[-1] if self.stack else None)
        self.stack.append(module)
        if isinstance(module, _DropoutNd) and self.measure:
            first = next(tensors(args), None)
            if first is not None:
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
        call = DropoutCall(
            phase=self.phase,
            kind="module",
            name=self.name_of(module),
            cls=type(module).__name__,
            p=float(module.p),
            active=bool(module.training) and module.p > 0,
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
        self.calls.append(call)

    # Functions.

    def on_function(self, func: Callable[..., Any], args: Any, kwargs: Any, result: Any) -> None:
        name = getattr(func, "__name__", "")
        if self.stack and isinstance(self.stack[-1], _DropoutNd):
            return  # nn.Dropout's own F.dropout: the module call is recorded
        if name in _FUNCTIONAL:
            p_index, p_name, flag_index, flag_name, default = _FUNCTIONAL[name]
            p = _argument(args, kwargs, p_index, p_name, 0.5)
            flag = _argument(args, kwargs, flag_index, flag_name, default)
            file, line = call_site()
            first_in = next(tensors(args), None)
            out = result[0] if isinstance(result, tuple) else result
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
            )
            if isinstance(out, Tensor):
                self.made.append((call, weakref.ref(out)))
            if self.measure and first_in is not None and isinstance(out, Tensor) and out.shape == first_in.shape:
                _measure(call, first_in.detach(), out.detach(), "alpha" in name)
            self.calls.append(call)
            if call.active:
                self.randoms.append(RandomCall(call.name, call.owner, file, line))
        elif name in _ATTENTION:
            index, keyword = _ATTENTION[name]
            p = _argument(args, kwargs, index, keyword, 0.0)
            file, line = call_site()
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
            )
            self.calls.append(call)
            if call.active:
                self.randoms.append(RandomCall(call.name, call.owner, file, line))
        elif name in _RANDOM:
            file, line = call_site()
            self.randoms.append(RandomCall(name, self.owner(), file, line))


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


@contextmanager
def watch(recorder: Recorder) -> Iterator[Recorder]:
    """Install the global hooks and the function mode for one pass."""
    pre = torch.nn.modules.module.register_module_forward_pre_hook(recorder.pre)  # type: ignore[arg-type]
    post = torch.nn.modules.module.register_module_forward_hook(recorder.post, always_call=True)
    try:
        with _Functions(recorder):
            yield recorder
    finally:
        pre.remove()
        post.remove()

