"""Leaving a model as it was found: what a trace or a conformance check may change,
saved before and put back after, even when the model fails half way.

Saved: every parameter's and buffer's values (persistent or not) and gradients, the
tensors each module holds (a forward pass may swap a parameter for another), every
module's ``training`` flag and plain attributes (a cached mask, a step counter), and the
random number generators of torch (CPU and every initialised CUDA device), Python's
``random`` and NumPy. The copies of the values are kept on the CPU, so a model on a GPU
costs no GPU memory to protect.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import Tensor, nn


@dataclass
class RandomStates:
    """The global random number generators: torch's, Python's and NumPy's."""

    cpu: Tensor
    cuda: Optional[list[Tensor]]
    python: Any
    numpy: Any

    @classmethod
    def save(cls) -> RandomStates:
        initialised = torch.cuda.is_available() and torch.cuda.is_initialized()  # type: ignore[no-untyped-call]
        cuda = torch.cuda.get_rng_state_all() if initialised else None
        numpy = _numpy()
        return cls(torch.get_rng_state(), cuda, random.getstate(), numpy.random.get_state() if numpy else None)

    def restore(self) -> None:
        torch.set_rng_state(self.cpu)
        if self.cuda is not None:
            torch.cuda.set_rng_state_all(self.cuda)
        random.setstate(self.python)
        numpy = _numpy()
        if numpy is not None and self.numpy is not None:
            numpy.random.set_state(self.numpy)


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # the tracer works without NumPy; there is no state to keep then
        return None
    return numpy


@dataclass
class _Module:
    module: nn.Module
    training: bool
    attributes: dict[str, Any]
    parameters: dict[str, Any]
    buffers: dict[str, Any]
    modules: dict[str, Any]
    non_persistent: set[str]


@dataclass
class Saved:
    """One model's state; ``restore()`` puts it back."""

    modules: list[_Module] = field(default_factory=list)
    values: list[tuple[Tensor, Tensor]] = field(default_factory=list)  # (tensor, its copy)
    grads: list[tuple[Tensor, Optional[Tensor], Optional[Tensor]]] = field(default_factory=list)
    random: Optional[RandomStates] = None

    @classmethod
    def save(cls, model: Optional[nn.Module]) -> Saved:
        saved = cls(random=RandomStates.save())
        if model is None:
            return saved
        seen: set[int] = set()
        for module in model.modules():
            saved.modules.append(
                _Module(
                    module,
                    module.training,
                    dict(module.__dict__),
                    dict(module._parameters),
                    dict(module._buffers),
                    dict(module._modules),
                    set(module._non_persistent_buffers_set),
                )
            )
            for tensor in [*module._parameters.values(), *module._buffers.values()]:
                if tensor is None or id(tensor) in seen or tensor.device.type == "meta":
                    continue
                seen.add(id(tensor))
                saved.values.append((tensor, tensor.detach().to("cpu", copy=True)))
                if isinstance(tensor, nn.Parameter):
                    grad = tensor.grad
                    saved.grads.append((tensor, grad, None if grad is None else grad.detach().to("cpu", copy=True)))
        return saved

    def restore(self) -> None:
        for entry in self.modules:
            module = entry.module
            for key in [k for k in module.__dict__ if k not in entry.attributes]:
                del module.__dict__[key]
            module.__dict__.update(entry.attributes)
            for held, kept in (
                (module._parameters, entry.parameters),
                (module._buffers, entry.buffers),
                (module._modules, entry.modules),
            ):
                held.clear()
                held.update(kept)
            module._non_persistent_buffers_set.clear()
            module._non_persistent_buffers_set.update(entry.non_persistent)
            module.training = entry.training
        with torch.no_grad():
            for tensor, value in self.values:
                tensor.copy_(value)
            for parameter, grad, grad_value in self.grads:
                if grad is not None and grad_value is not None:
                    grad.copy_(grad_value)
                parameter.grad = grad
        if self.random is not None:
            self.random.restore()


@contextmanager
def left_as_found(model: Optional[nn.Module] = None) -> Iterator[Saved]:
    """Run a block and put the model (if any) and the random generators back as they were."""
    saved = Saved.save(model)
    try:
        yield saved
    finally:
        saved.restore()
