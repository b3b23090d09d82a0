"""Building the model to trace and its example inputs from the command line's words.

``TARGET`` is ``path/to/file.py:name`` or ``package.module:name``, where ``name`` is a
module class (built with no arguments) or a function returning a module. Inputs come
from ``--input``/``--input-shape``, from ``--example-inputs module:function``, or from
an ``example_inputs()`` function beside the model.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Optional

import torch
from torch import nn

from dropout_lint.tracer.trace import Inputs, default_inputs, to_inputs

_INPUT = re.compile(r"^(?P<dtype>[a-z0-9]+)\[(?P<shape>[0-9, ]+)\](?:\{(?P<low>-?\d+),(?P<high>-?\d+)\})?$")


class TargetError(Exception):
    """The target cannot be built or run; ``stage`` says at which step."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


@dataclass(frozen=True)
class InputSpec:
    dtype: str
    shape: tuple[int, ...]
    bounds: Optional[tuple[int, int]] = None


def parse_input(text: str) -> InputSpec:
    """``float32[8,3,32,32]`` or ``int64[8,128]{0,30522}``."""
    found = _INPUT.match(text.replace(" ", ""))
    if found is None:
        raise TargetError("input", f"cannot read the input {text!r}: write it like float32[8,784] or int64[8,128]{{0,30522}}")
    dtype = found.group("dtype")
    if not isinstance(getattr(torch, dtype, None), torch.dtype):
        raise TargetError("input", f"unknown dtype {dtype!r} in {text!r}")
    shape = tuple(int(n) for n in found.group("shape").split(",") if n)
    bounds = (int(found.group("low")), int(found.group("high"))) if found.group("low") else None
    return InputSpec(dtype, shape, bounds)


def parse_shape(text: str, dtype: str) -> InputSpec:
    """``8,784`` with ``--dtype``."""
    try:
        shape = tuple(int(n) for n in text.split(",") if n.strip())
    except ValueError:
        raise TargetError("input", f"cannot read the shape {text!r}: write it like 8,784") from None
    return parse_input(f"{dtype}[{','.join(map(str, shape))}]")


def _load_module(reference: str) -> ModuleType:
    """A Python file (its folder goes first on sys.path) or a module name."""
    if reference.endswith(".py") or os.sep in reference or os.path.isfile(reference):
        path = os.path.abspath(reference)
        if not os.path.isfile(path):
            raise TargetError("import", f"no such file: {reference}")
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        name = os.path.splitext(os.path.basename(path))[0]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise TargetError("import", f"cannot import {reference}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except Exception as error:
            raise TargetError("import", f"importing {reference} failed: {type(error).__name__}: {error}") from error
        return module
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(reference)
    except Exception as error:
        raise TargetError("import", f"importing {reference} failed: {type(error).__name__}: {error}") from error


def _split(target: str) -> tuple[str, str]:
    reference, sep, name = target.rpartition(":")
    if not sep or not reference or not name:
        raise TargetError("target", f"write the target as path/to/file.py:name or package.module:name, not {target!r}")
    return reference, name


def build_model(target: str) -> tuple[nn.Module, ModuleType]:
    reference, name = _split(target)
    module = _load_module(reference)
    factory = getattr(module, name, None)
    if factory is None:
        raise TargetError("target", f"{reference} has no {name!r}")
    try:
        model = factory()
    except Exception as error:
        what = "building" if isinstance(factory, type) else "calling"
        raise TargetError("build", f"{what} {name}() failed: {type(error).__name__}: {error}") from error
    if not isinstance(model, nn.Module):
        raise TargetError("build", f"{name}() returned a {type(model).__name__}, not a torch.nn.Module")
    return model, module


def load_weights(model: nn.Module, path: str) -> None:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise TargetError("weights", f"loading {path} failed: {type(error).__name__}: {error}") from error
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    try:
        model.load_state_dict(state)
    except Exception as error:
        raise TargetError("weights", f"the weights in {path} do not fit the model: {error}") from error


def pick_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TargetError("device", "--device cuda: no CUDA device is available")
    if name == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise TargetError("device", "--device mps: no MPS device is available")
    return torch.device(name)


def make_inputs(
    specs: list[InputSpec],
    example: Optional[str],
    model_module: ModuleType,
    device: torch.device,
) -> Inputs:
    if specs:
        return default_inputs([(s.dtype, s.shape, s.bounds) for s in specs], device)
    function: Any = None
    if example is not None:
        reference, name = _split(example)
        function = getattr(_load_module(reference), name, None)
        if function is None:
            raise TargetError("input", f"{reference} has no {name!r}")
    else:
        function = getattr(model_module, "example_inputs", None)
    if function is None:
        raise TargetError(
            "input",
            "no example input: give --input float32[8,784] (or --input-shape 8,784), "
            "--example-inputs module:function, or define example_inputs() beside the model",
        )
    try:
        value = function()
        inputs = to_inputs(value)
    except Exception as error:
        raise TargetError("input", f"example_inputs() failed: {type(error).__name__}: {error}") from error
    return Inputs(
        tuple(_to(a, device) for a in inputs.args),
        {k: _to(v, device) for k, v in inputs.kwargs.items()},
    )


def _to(value: Any, device: torch.device) -> Any:
    return value.to(device) if isinstance(value, torch.Tensor) else value
