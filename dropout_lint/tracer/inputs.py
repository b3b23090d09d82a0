"""Example inputs written on the command line: ``--input`` specs and the tensors they make.

A spec is ``DTYPE[SHAPE]``, optionally ``NAME=`` before it (a keyword argument) and
``{LOW,HIGH}`` after it (the range of integer values, ``HIGH`` excluded)::

    float[8,3,32,32]            a positional float32 tensor, standard normal
    input_ids=long[2,16]{0,1000} token ids in [0, 1000)
    attention_mask=bool[2,16]   all True: a mask that keeps every position

Integers without a range are drawn from ``[0, VOCAB)``: ``--vocab-size``, else the
``vocab_size`` of a Hugging Face model's config, else ``[0, 10)``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

import torch

from dropout_lint.tracer.errors import TargetError
from dropout_lint.tracer.trace import Inputs

_SPEC = re.compile(
    r"^(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)=)?"
    r"(?P<dtype>[a-z][a-z0-9]*)\[(?P<shape>[0-9,]*)\]"
    r"(?:\{(?P<low>-?\d+),(?P<high>-?\d+)\})?$"
)
_EXAMPLE = "write it like float[8,784], x=float32[2,3,32,32], input_ids=long[2,16]{0,30522} or mask=bool[2,16]"


@dataclass(frozen=True)
class InputSpec:
    dtype: str
    shape: tuple[int, ...]
    bounds: Optional[tuple[int, int]] = None
    name: Optional[str] = None  # a keyword argument (or a key of the --dict-input dict)


def parse_input(text: str) -> InputSpec:
    found = _SPEC.match(text.replace(" ", ""))
    if found is None:
        raise TargetError("input", f"cannot read the input {text!r}: {_EXAMPLE}")
    dtype = found.group("dtype")
    kind = getattr(torch, dtype, None)
    if not isinstance(kind, torch.dtype):
        raise TargetError("input", f"unknown dtype {dtype!r} in {text!r}")
    shape = tuple(int(n) for n in found.group("shape").split(",") if n)
    bounds = None
    if found.group("low") is not None:
        if kind.is_floating_point or kind.is_complex or kind == torch.bool:
            raise TargetError("input", f"a range {{LOW,HIGH}} is for integer inputs, not {dtype}: {text!r}")
        bounds = (int(found.group("low")), int(found.group("high")))
        if bounds[0] >= bounds[1]:
            raise TargetError("input", f"the range of {text!r} is empty: LOW must be below HIGH (HIGH is excluded)")
    return InputSpec(dtype, shape, bounds, found.group("name"))


def parse_shape(text: str, dtype: str) -> InputSpec:
    """``8,784`` with ``--dtype``."""
    try:
        shape = tuple(int(n) for n in text.split(",") if n.strip())
    except ValueError:
        raise TargetError("input", f"cannot read the shape {text!r}: write it like 8,784") from None
    return parse_input(f"{dtype}[{','.join(map(str, shape))}]")


def make_tensors(
    specs: list[InputSpec],
    device: torch.device,
    *,
    vocab_size: Optional[int] = None,
    as_dict: bool = False,
) -> Inputs:
    """Random tensors for the specs: positional ones in order, named ones as keywords
    (or, ``as_dict``, as one dict after the positional ones)."""
    names = [s.name for s in specs if s.name is not None]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise TargetError("input", f"the input {repeated[0]!r} is given twice")
    if as_dict and not names:
        raise TargetError("input", "--dict-input passes the named inputs as one dict: name them, like x=float[8,784]")
    args = [_tensor(s, device, vocab_size) for s in specs if s.name is None]
    named = {s.name: _tensor(s, device, vocab_size) for s in specs if s.name is not None}
    if as_dict:
        return Inputs((*args, named), {})
    return Inputs(tuple(args), named)


def _tensor(spec: InputSpec, device: torch.device, vocab_size: Optional[int]) -> Any:
    dtype = getattr(torch, spec.dtype)
    if dtype == torch.bool:
        return torch.ones(spec.shape, dtype=dtype, device=device)
    if dtype.is_floating_point or dtype.is_complex:
        return torch.randn(spec.shape, dtype=dtype, device=device)
    low, high = spec.bounds or (0, vocab_size or 10)
    return torch.randint(low, high, spec.shape, dtype=dtype, device=device)
