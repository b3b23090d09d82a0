"""Run a model forward in train and in eval mode and report what dropout actually did.

``trace_model(model, inputs)`` works in-process and leaves the model exactly as it
found it (see ``preserve``): parameters, buffers, every module's ``training`` flag and
the random number generators of torch, Python and NumPy are restored afterwards.

Each finding states only what the run showed: a dropout module whose rate is handed to
an attention kernel is applied; a random draw in an eval-mode forward is found where
it is made, whatever the seed; the conformance check takes every module that drops
like dropout, whatever its name, and leaves torch's own dropouts alone.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor, nn
from torch.nn.modules.dropout import _DropoutNd

from dropout_lint.tracer.behaviour import declared_kind, dropout_kind, probe_shape, rate_of, torch_own
from dropout_lint.tracer.instrument import DropoutCall, Pinning, Recorder, same_output, storage_of, tensors, watch
from dropout_lint.tracer.preserve import left_as_found
from dropout_lint.tracer.reference import check_dropout

_SIGMAS = 6.0


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
    with left_as_found(model), torch.no_grad():
        train = _run(model, inputs, seed, result)
        if conformance:
            _conformance(model, train, result)
    result.seconds = time.perf_counter() - started
    return result


def _forward(model: nn.Module, inputs: Inputs) -> Any:
    return model(*inputs.args, **inputs.kwargs)


def _raw(inputs: Inputs) -> set[int]:
    return {storage_of(t) for t in tensors((inputs.args, inputs.kwargs))}


def _run(model: nn.Module, inputs: Inputs, seed: int, result: TraceResult) -> Recorder:
    meta = any(t.device.type == "meta" for t in tensors((inputs.args, inputs.kwargs)))
    # Training mode: which dropouts run, what they drop, where they sit.
    model.train()
    torch.manual_seed(seed)
    train = Recorder(model, "train", measure=not meta, rates=True)
    train.raw = _raw(inputs)
    with watch(train):
        output = _forward(model, inputs)
    result.calls.extend(train.calls)
    _placement(train, output, result)
    del output
    train.made.clear()
    _rate_mismatch(train, result)
    _never_applied(model, train, result)
    _never_active(train, result)

    # Eval mode: nothing may drop and nothing may draw random numbers. A second pass
    # with another seed catches randomness that no watched call makes.
    model.eval()
    torch.manual_seed(seed + 1)
    first = Recorder(model, "eval", measure=False, draws=True)
    with watch(first):
        reference = _forward(model, inputs)
    first.made.clear()
    result.calls.extend(first.calls)
    _active_in_eval(first, result)
    drawn = _draws_in_eval(first, result)
    if not meta:  # (meta tensors hold no values to compare)
        torch.manual_seed(seed + 2)
        # Watched like the first: torch takes other (fused) paths when nothing watches.
        with watch(Recorder(model, "eval", measure=False)):
            again = _forward(model, inputs)
        differ = not same_output(reference, again)
        del reference, again
        if differ and not drawn:
            _localise(model, inputs, seed, result)
    result.modules = _table(model, train, first)
    return train


def _site(call: DropoutCall) -> tuple[Optional[str], Optional[int]]:
    return call.file, call.line


def _add(result: TraceResult, code: str, message: str, file: Optional[str], line: Optional[int]) -> None:
    """One finding per code and line (a block class built twelve times is one finding)."""
    if file is not None and any((f.code, f.file, f.line) == (code, file, line) for f in result.findings):
        return
    finding = TraceFinding(code, message, file, line)
    if finding not in result.findings:
        result.findings.append(finding)


def _placement(recorder: Recorder, output: Any, result: TraceResult) -> None:
    """Dropout on the raw input (DL101), and dropout making every value the model
    returns (DL102: not a dropout that makes one of several outputs, such as the first
    of the hidden states)."""
    for call in recorder.calls:
        if call.kind != "attention" and call.active and call.raw_input:
            _add(result, "DL101", f"`{call.name}` is applied to the model's raw input at run time", *_site(call))
    made: dict[int, DropoutCall] = {}
    for call, reference in recorder.made:
        tensor = reference()
        if call.active and tensor is not None:
            made.setdefault(storage_of(tensor), call)
    returned = [storage_of(t) for t in tensors(output)]
    if returned and all(storage in made for storage in returned):
        for storage in returned:
            call = made[storage]
            _add(result, "DL102", f"`{call.name}` makes the model's output at run time", *_site(call))


def _rate_mismatch(recorder: Recorder, result: TraceResult) -> None:
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


def _never_applied(model: nn.Module, recorder: Recorder, result: TraceResult) -> None:
    """DL104: a registered dropout module that the training pass neither runs nor
    applies another way: its rate read by the model's code (``self.attn_drop.p`` handed
    to a fused attention kernel), or handed on by the module that holds it (a functional
    dropout or attention with ``dropout_p`` equal to the rate, called from that module).
    Only where the module that holds it ran: a layer skipped in this pass (LayerDrop)
    says nothing about its dropouts."""
    for name, module in model.named_modules():
        if not isinstance(module, _DropoutNd) or not module.p > 0:
            continue
        holder = model.get_submodule(name.rpartition(".")[0])
        if id(holder) not in recorder.called:
            continue
        if id(module) in recorder.called or id(module) in recorder.rate_read or _rate_handed_on(model, name, recorder):
            continue
        file, line = _registration(model, name)
        _add(result, "DL104", f"the dropout module `{name}` is neither run nor its rate used in the forward pass", file, line)


def _rate_handed_on(model: nn.Module, name: str, recorder: Recorder) -> bool:
    holder_name = name.rpartition(".")[0]
    holder = recorder.names[id(model.get_submodule(holder_name))]
    p = float(model.get_submodule(name).__dict__["p"])
    for call in recorder.calls:
        if call.kind == "module" or call.p is None or not math.isclose(call.p, p, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if not holder_name or call.owner == holder or call.owner.startswith(holder + "."):
            return True
    return False


def _registration(model: nn.Module, name: str) -> tuple[Optional[str], Optional[int]]:
    """Where ``self.<attr> = ...`` of a submodule is written: in its owner's class or the
    first base class (a subclass may inherit ``__init__``) that writes it."""
    owner_name, _, attr = name.rpartition(".")
    owner = model.get_submodule(owner_name) if owner_name else model
    pattern = re.compile(rf"self\.{re.escape(attr)}\s*=|['\"]{re.escape(attr)}['\"]")
    fallback: tuple[Optional[str], Optional[int]] = (None, None)
    for cls in type(owner).__mro__:
        if cls is nn.Module or cls is object:
            break
        try:
            lines, first = inspect.getsourcelines(cls)
            file = inspect.getsourcefile(cls)
        except (OSError, TypeError):
            continue
        if fallback == (None, None):
            fallback = (file, first)
        for offset, text in enumerate(lines):
            if pattern.search(text):
                return file, first + offset
    return fallback


def _never_active(recorder: Recorder, result: TraceResult) -> None:
    """DL405: functional dropout with a rate that drops nothing in training, because its
    flag is off (``training=False``, or alpha dropout's default) while the module that
    calls it is in training mode. A rate of 0 is a placeholder, as for the static rule."""
    for call in recorder.calls:
        if call.kind != "function" or call.flag or not call.p or call.owner_training is False:
            continue
        _add(result, "DL405", f"`{call.name}` (p={call.p:g}) drops nothing in training: its training flag is off", *_site(call))


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


def _draws_in_eval(recorder: Recorder, result: TraceResult) -> bool:
    """DL502: a random draw from a global generator (torch's, Python's ``random``,
    NumPy's) or a dropout that drops, in an eval-mode forward pass: found where it is
    made, whatever the seed. Draws from a generator of the model's own (``generator=``,
    ``random.Random(0)``) are deterministic when it is re-seeded; they count only when
    two eval passes differ (see ``_localise``). Returns whether any was found."""
    found = False
    for draw in recorder.randoms:
        if draw.private:
            continue
        found = True
        if draw.dropout:
            message = f"eval mode is not deterministic: `{draw.name}` drops at random in eval (in `{draw.owner}`)"
        else:
            message = f"eval mode is not deterministic: `{draw.owner}` draws random numbers with `{draw.name}` in eval"
        _add(result, "DL502", message, draw.file, draw.line)
    return found


def _localise(model: nn.Module, inputs: Inputs, seed: int, result: TraceResult) -> None:
    """DL502 when two eval passes differ and no watched draw explains it: record every
    module's inputs and outputs in one pass, feed them again in another; the modules
    whose output still changes (while their children match) bring the randomness in.
    Both passes run only here, so the copies they keep cost nothing in a clean trace."""
    pinning = Pinning()
    recording = Recorder(model, "eval", measure=False)
    recording.pinning = pinning
    torch.manual_seed(seed + 1)
    with watch(recording):
        _forward(model, inputs)
    pinning.recording = False
    recorder = Recorder(model, "eval", measure=False, draws=True)
    recorder.pinning = pinning
    torch.manual_seed(seed + 3)
    with watch(recorder):
        _forward(model, inputs)
    # A module whose difference a child explains is not where randomness enters.
    responsible = [m for m in {id(m): m for m in pinning.differs}.values() if id(m) not in pinning.explained]
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


def _dropout_like(model: nn.Module, recorder: Recorder) -> Iterator[tuple[str, nn.Module, str, float]]:
    """Every dropout implementation the training pass ran, with its kind and rate:
    subclasses of torch's dropouts with a ``forward`` of their own, and modules without
    parameters whose own code drew random numbers and that drop like dropout (found by
    behaviour, whatever their names). Torch's own dropouts are the reference: skipped."""
    drawing = {r.owner for r in recorder.randoms if not r.dropout}
    drawing |= {c.owner for c in recorder.calls if c.kind == "function" and c.active}
    kinds: dict[tuple[type, int], Optional[str]] = {}  # what a class does does not depend on its rate
    for name, module in model.named_modules():
        if id(module) not in recorder.called or torch_own(module):
            continue
        p = rate_of(module)
        if p is None:
            continue
        if isinstance(module, _DropoutNd):
            kind = declared_kind(module)
        elif recorder.names[id(module)] in drawing and next(module.parameters(), None) is None:
            rank = recorder.ranks.get(id(module), 2)
            if (type(module), rank) not in kinds:
                kinds[type(module), rank] = dropout_kind(copy.deepcopy(module).cpu(), rank)
            found = kinds[type(module), rank]
            declared = declared_kind(module)
            kind = declared if found is not None and declared is not None else found
        else:
            continue
        if kind is not None:
            yield name, module, kind, p


def _conformance(model: nn.Module, recorder: Recorder, result: TraceResult) -> None:
    """DL503: every dropout implementation of the model against the reference, once per
    class (at the first rate it has: a stochastic depth whose rate grows with depth is
    one implementation)."""
    seen: set[type] = set()
    for name, module, kind, p in _dropout_like(model, recorder):
        if type(module) in seen:
            continue
        seen.add(type(module))
        rank = recorder.ranks.get(id(module), 2)
        shape = probe_shape(rank) if not isinstance(module, _DropoutNd) else None
        report = check_dropout(copy.deepcopy(module).cpu(), p, kind=kind, shape=shape)
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
