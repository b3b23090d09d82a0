"""Run a model forward in train and in eval mode and report what dropout actually did.

``trace_model(model, inputs)`` works in-process and leaves the model exactly as it
found it: parameters, buffers (batch-norm statistics), every module's ``training``
flag and the random number generators are restored afterwards.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd

from dropout_lint.tracer.instrument import DropoutCall, Pinning, Recorder, same_output, storage_of, tensors, watch
from dropout_lint.tracer.reference import check_dropout

_SIGMAS = 6.0
_DROP_NAMES = re.compile(r"drop", re.IGNORECASE)


@dataclass(frozen=True)
class TraceFinding:
    code: str
    message: str
    file: Optional[str]
    line: Optional[int]


@dataclass
class TraceResult:
    findings: list[TraceFinding] = field(default_factory=list)
    calls: list[DropoutCall] = field(default_factory=list)
    modules: list[dict[str, Any]] = field(default_factory=list)  # the dropout modules, for the table
    seconds: float = 0.0
    device: str = "cpu"


@dataclass
class Inputs:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


class _Snapshot:
    """Everything a forward pass may change: restored on exit."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.state = {k: v.detach().clone() for k, v in model.state_dict(keep_vars=True).items()}
        self.flags = [(m, m.training) for m in model.modules()]
        # Plain attributes a forward pass may set (a cached mask, a step counter).
        self.attributes = [(m, dict(m.__dict__)) for m in model.modules()]

    def restore(self) -> None:
        with torch.no_grad():
            current = self.model.state_dict(keep_vars=True)
            for key, saved in self.state.items():
                if key in current:
                    current[key].copy_(saved)
        for module, flag in self.flags:
            module.training = flag
        for module, attributes in self.attributes:
            for key in [k for k in module.__dict__ if k not in attributes]:
                del module.__dict__[key]
            module.__dict__.update(attributes)


def trace_model(
    model: nn.Module,
    inputs: Inputs,
    *,
    seed: int = 0,
    conformance: bool = False,
) -> TraceResult:
    """Trace a model on the given inputs (already on the model's device)."""
    started = time.perf_counter()
    result = TraceResult(device=str(next(iter(model.parameters()), torch.empty(0)).device))
    snapshot = _Snapshot(model)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            _run(model, inputs, seed, result)
            if conformance:
                _conformance(model, result)
    finally:
        snapshot.restore()
    result.seconds = time.perf_counter() - started
    return result


def _forward(model: nn.Module, inputs: Inputs) -> Any:
    return model(*inputs.args, **inputs.kwargs)


def _raw(inputs: Inputs) -> set[int]:
    return {storage_of(t) for t in tensors((inputs.args, inputs.kwargs))}


def _run(model: nn.Module, inputs: Inputs, seed: int, result: TraceResult) -> None:
    meta = any(t.device.type == "meta" for t in tensors((inputs.args, inputs.kwargs)))
    # Training mode: which dropouts run, what they drop, where they sit.
    model.train()
    torch.manual_seed(seed)
    train = Recorder(model, "train", measure=not meta)
    train.raw = _raw(inputs)
    with watch(train):
        output = _forward(model, inputs)
    result.calls.extend(train.calls)
    _placement(train, output, result)
    _rates(train, result)
    _never_called(model, train, result)
    _never_active(train, result)

    # Eval mode twice, with different seeds: nothing should drop, and nothing differ.
    model.eval()
    torch.manual_seed(seed + 1)
    first = Recorder(model, "eval", measure=not meta)
    pinning = first.pinning = Pinning()  # records every module's inputs and outputs
    with watch(first):
        reference = _forward(model, inputs)
    first.pinning = None
    result.calls.extend(first.calls)
    _active_in_eval(first, result)
    if not meta:  # (meta tensors hold no values to compare)
        torch.manual_seed(seed + 2)
        second = Recorder(model, "eval", measure=False)
        with watch(second):
            again = _forward(model, inputs)
        if not same_output(reference, again):
            _localise(model, inputs, seed, pinning, result)
    result.modules = _table(model, train, first)


def _site(call: DropoutCall) -> tuple[Optional[str], Optional[int]]:
    return call.file, call.line


def _add(result: TraceResult, code: str, message: str, file: Optional[str], line: Optional[int]) -> None:
    finding = TraceFinding(code, message, file, line)
    if finding not in result.findings:
        result.findings.append(finding)


def _placement(recorder: Recorder, output: Any, result: TraceResult) -> None:
    """Dropout on the raw input (DL101) and dropout making the output (DL102)."""
    outputs = {storage_of(t) for t in tensors(output)}
    for call in recorder.calls:
        if call.kind != "attention" and call.active and call.raw_input:
            _add(result, "DL101", f"`{call.name}` is applied to the model's raw input at run time", *_site(call))
    for call, made in recorder.made:
        tensor = made()
        if call.active and tensor is not None and storage_of(tensor) in outputs:
            _add(result, "DL102", f"`{call.name}` makes the model's output at run time", *_site(call))


def _rates(recorder: Recorder, result: TraceResult) -> None:
    """DL504: a dropout module that drops at another rate than its p."""
    for call in recorder.calls:
        if call.kind != "module" or call.measured is None or call.p is None or not call.active or call.measured_n < 64:
            continue
        p = call.p
        bound = _SIGMAS * math.sqrt(max(p * (1 - p), 1e-12) / call.measured_n) + 1e-3
        if abs(call.measured - p) > bound:
            _add(
                result,
                "DL504",
                f"`{call.name}` ({call.cls}, p={p:g}) dropped {call.measured:.3f} of {call.measured_n} "
                f"values in training, outside {p:g} ± {bound:.3f}",
                *_site(call),
            )


def _never_called(model: nn.Module, recorder: Recorder, result: TraceResult) -> None:
    """DL104: a registered dropout module that the forward pass never runs."""
    for name, module in model.named_modules():
        if isinstance(module, _DropoutNd) and id(module) not in recorder.called and module.p > 0:
            file, line = _registration(model, name)
            _add(result, "DL104", f"the dropout module `{name}` never runs in the forward pass", file, line)


def _registration(model: nn.Module, name: str) -> tuple[Optional[str], Optional[int]]:
    """Where ``self.<attr> = ...`` of a submodule is written in its owner's class."""
    owner_name, _, attr = name.rpartition(".")
    owner = model.get_submodule(owner_name) if owner_name else model
    try:
        lines, first = inspect.getsourcelines(type(owner))
        file = inspect.getsourcefile(type(owner))
    except (OSError, TypeError):
        return None, None
    pattern = re.compile(rf"self\.{re.escape(attr)}\s*=|['\"]{re.escape(attr)}['\"]")
    for offset, text in enumerate(lines):
        if pattern.search(text):
            return file, first + offset
    return file, first


def _never_active(recorder: Recorder, result: TraceResult) -> None:
    """DL405: functional dropout that drops nothing in training."""
    for call in recorder.calls:
        if call.kind == "function" and not call.active:
            _add(result, "DL405", f"`{call.name}` drops nothing in training (its flag is off or p is 0)", *_site(call))


def _active_in_eval(recorder: Recorder, result: TraceResult) -> None:
    """DL501 for modules, DL401/DL406 for functions: dropout active in eval mode."""
    for call in recorder.calls:
        if not call.active:
            continue
        if call.kind == "module":
            _add(
                result,
                "DL501",
                f"`{call.name}` ({call.cls}) drops in eval mode: its own `training` flag is on "
                "(it is not registered in the model, or its flag was set back)",
                *_site(call),
            )
        elif call.kind == "function":
            _add(result, "DL401", f"`{call.name}` drops in eval mode (called from `{call.owner}`)", *_site(call))
        else:
            _add(result, "DL406", f"`{call.name}` drops attention weights in eval mode (dropout_p={call.p:g})", *_site(call))


def _localise(model: nn.Module, inputs: Inputs, seed: int, replay: Pinning, result: TraceResult) -> None:
    """DL502: feed every module the inputs of the first eval pass; the modules whose
    output still changes (while their children match) bring the randomness in."""
    recorder = Recorder(model, "eval", measure=False)
    replay.recording = False
    recorder.pinning = replay
    torch.manual_seed(seed + 3)
    with watch(recorder):
        _forward(model, inputs)
    # A module whose difference a child explains is not where randomness enters.
    responsible = [m for m in {id(m): m for m in replay.differs}.values() if id(m) not in replay.explained]
    if not responsible:
        _add(result, "DL502", "two eval-mode passes give different outputs", None, None)
        return
    for module in responsible:
        name = recorder.name_of(module)
        ops = [r for r in recorder.randoms if r.owner == name]
        if ops:
            op = ops[0]
            _add(
                result,
                "DL502",
                f"eval mode is not deterministic: `{name}` ({type(module).__name__}) draws random numbers "
                f"with `{op.name}` in eval",
                op.file,
                op.line,
            )
        else:
            # A submodule is shown where its owner calls it; the model itself at its forward.
            file, line = recorder.sites.get(id(module), (None, None)) if module is not model else (None, None)
            if file is None:
                file, line = _forward_line(module)
            _add(
                result,
                "DL502",
                f"eval mode is not deterministic: `{name}` ({type(module).__name__}) gives different outputs "
                "for the same inputs",
                file,
                line,
            )


def _class_line(module: Optional[nn.Module]) -> tuple[Optional[str], Optional[int]]:
    if module is None:
        return None, None
    try:
        return inspect.getsourcefile(type(module)), inspect.getsourcelines(type(module))[1]
    except (OSError, TypeError):
        return None, None


def _forward_line(module: nn.Module) -> tuple[Optional[str], Optional[int]]:
    try:
        forward = type(module).forward
        return inspect.getsourcefile(forward), inspect.getsourcelines(forward)[1]
    except (OSError, TypeError):
        return _class_line(module)


def _kind_of(module: nn.Module) -> Optional[str]:
    """What a dropout implementation drops, by its class; None if it is not one."""
    name = type(module).__name__
    if isinstance(module, (nn.AlphaDropout,)):
        return "alpha"
    if isinstance(module, nn.FeatureAlphaDropout):
        return "feature-alpha"
    if isinstance(module, (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)):
        return "channel"
    if isinstance(module, nn.Dropout):
        return "element"
    if not _DROP_NAMES.search(name) or any(True for _ in module.children()):
        return None
    # By the words of the class name (`GPT2Dropout` is element-wise, `DropBlock2d` is
    # neither kind the reference knows).
    if re.search(r"Path|Depth|drop_path|stochastic_depth", name):
        return "sample"
    if re.search(r"Block", name):
        return None
    if re.search(r"Dropout[123][dD]\b|Spatial|Channel|spatial|channel", name):
        return "channel"
    return "element"


def _rate_of(module: nn.Module) -> Optional[float]:
    for attribute in ("p", "drop_prob", "rate", "dropout", "drop_rate"):
        value = getattr(module, attribute, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1:
            return float(value)
    return None


def _conformance(model: nn.Module, result: TraceResult) -> None:
    """DL503: every dropout implementation of the model against the reference."""
    seen: set[tuple[type, float]] = set()
    for name, module in model.named_modules():
        kind = _kind_of(module)
        p = _rate_of(module)
        if kind is None or p is None or (type(module), p) in seen:
            continue
        seen.add((type(module), p))
        report = check_dropout(copy.deepcopy(module).cpu(), p, kind=kind)
        if not report.passed:
            failed = "; ".join(f"{r.name}: {r.detail}" for r in report.failed)
            file, line = _class_line(module)
            _add(result, "DL503", f"`{name}` ({type(module).__name__}, p={p:g}) fails the reference check: {failed}", file, line)


def _table(model: nn.Module, train: Recorder, first: Recorder) -> list[dict[str, Any]]:
    rows = []
    for name, module in model.named_modules():
        if not isinstance(module, _DropoutNd):
            continue
        measured = [c.measured for c in train.calls if c.name == name and c.measured is not None]
        in_eval = any(c.name == name and c.active for c in first.calls)
        rows.append(
            {
                "name": name,
                "class": type(module).__name__,
                "p": float(module.p),
                "measured": sum(measured) / len(measured) if measured else None,
                "calls": sum(1 for c in train.calls if c.name == name),
                "eval": "drops" if in_eval else "identity",
            }
        )
    return rows


def iter_findings(result: TraceResult) -> Iterator[TraceFinding]:
    return iter(result.findings)


def default_inputs(shapes: Sequence[tuple[str, tuple[int, ...], Optional[tuple[int, int]]]], device: torch.device) -> Inputs:
    """Random inputs: floats standard normal, integers in the range given (or [0, 10))."""
    args = []
    for dtype_name, shape, bounds in shapes:
        dtype = getattr(torch, dtype_name)
        if dtype.is_floating_point:
            args.append(torch.randn(shape, dtype=dtype, device=device))
        else:
            low, high = bounds or (0, 10)
            args.append(torch.randint(low, high, shape, dtype=dtype, device=device))
    return Inputs(tuple(args), {})


def to_inputs(value: Any) -> Inputs:
    """What an ``example_inputs()`` function returns, as call arguments."""
    if isinstance(value, Inputs):
        return value
    if isinstance(value, dict):
        return Inputs((), dict(value))
    if isinstance(value, (tuple, list)):
        return Inputs(tuple(value), {})
    if isinstance(value, Tensor):
        return Inputs((value,), {})
    raise TypeError(f"example inputs must be a tensor, a tuple of them or a dict, not {type(value).__name__}")
