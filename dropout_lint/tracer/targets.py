"""Building the model to trace, its weights and its example inputs from the command line.

``TARGET`` is one of:

* ``path/to/file.py:name``: a file, imported by its package-qualified name when it sits
  in a package (so its relative imports work), with the package's root on ``sys.path``;
* ``package.module:name``: a module importable from the current folder;
* ``timm:model_name``: ``timm.create_model(model_name, pretrained=False, **init)``;
* ``transformers:ClassName``: ``ClassName(ClassName.config_class(**model_config))``.

``name`` is a module class or a function returning a module (a dotted name reaches an
attribute, ``Outer.build``), called with the ``--init`` keyword arguments. Nothing is
ever downloaded: timm gets ``pretrained=False``, Hugging Face classes are built from a
config and never with ``from_pretrained``. Inputs come from ``--input`` specs (see
``inputs``), from ``--example-inputs module:function``, or from an ``example_inputs()``
function beside the model.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any, Optional

import torch
from torch import nn

from dropout_lint.tracer.errors import TargetError
from dropout_lint.tracer.inputs import InputSpec, make_tensors
from dropout_lint.tracer.trace import Inputs, to_inputs

__all__ = ["TargetError", "build_model", "load_weights", "make_inputs", "pick_device", "vocab_size_of"]

# The keys under which training scripts save a model's state dict in a checkpoint.
_CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model")


def _package_name(path: str) -> tuple[str, str]:
    """(the folder to put on sys.path, the module's dotted name) for a file: the name is
    qualified by every package folder (one with ``__init__.py``) above it."""
    folder, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    parts = [] if stem == "__init__" else [stem]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    return folder, ".".join(parts)


def _import(name: str, shown: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as error:
        raise TargetError("import", f"importing {shown} failed: {type(error).__name__}: {error}") from error


def _load_module(reference: str) -> ModuleType:
    """A Python file (by its package-qualified name) or a module name."""
    if reference.endswith(".py") or os.sep in reference or os.path.isfile(reference):
        path = os.path.abspath(reference)
        if not os.path.isfile(path):
            raise TargetError("import", f"no such file: {reference}")
        root, name = _package_name(path)
        if root not in sys.path:
            sys.path.insert(0, root)
        if "." in name or os.path.basename(path) == "__init__.py":
            return _import(name, reference)
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
    return _import(reference, reference)


def split_target(target: str) -> tuple[str, str]:
    reference, sep, name = target.rpartition(":")
    if not sep or not reference or not name:
        raise TargetError(
            "target",
            f"write the target as path/to/file.py:name, package.module:name, timm:model_name "
            f"or transformers:ClassName, not {target!r}",
        )
    return reference, name


def _attribute(module: ModuleType, reference: str, dotted: str) -> Any:
    value: Any = module
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            raise TargetError("target", f"{reference} has no {dotted!r}")
    return value


def _library(name: str) -> ModuleType:
    """timm or transformers: optional, with a one-line message when missing."""
    if importlib.util.find_spec(name) is None:
        raise TargetError("import", f"{name} is not installed: pip install {name}")
    return _import(name, name)


def build_model(
    target: str,
    init: Optional[Mapping[str, Any]] = None,
    model_config: Optional[Mapping[str, Any]] = None,
) -> tuple[nn.Module, Optional[ModuleType]]:
    """The model, and the module that defines it (where ``example_inputs()`` may be)."""
    reference, name = split_target(target)
    kwargs = dict(init or {})
    if model_config is not None and reference != "transformers":
        raise TargetError("target", "--model-config is the config of a transformers:ClassName target")
    module: Optional[ModuleType] = None
    call: Callable[[], Any]
    if reference == "timm":
        if kwargs.get("pretrained"):
            raise TargetError("target", "the tracer never downloads weights: leave out pretrained and give --weights")
        kwargs["pretrained"] = False
        factory: Any = _library("timm").create_model
        call, shown = (lambda: factory(name, **kwargs)), f"timm.create_model({name!r})"
    elif reference == "transformers":
        cls = getattr(_library("transformers"), name, None)
        if cls is None:
            raise TargetError("target", f"transformers has no {name!r}")
        config_class = getattr(cls, "config_class", None)
        if config_class is None:
            raise TargetError("target", f"transformers.{name} has no config_class to build it from")
        call, shown = (lambda: cls(config_class(**(model_config or {})), **kwargs)), f"{name}({config_class.__name__}(...))"
    else:
        module = _load_module(reference)
        factory = _attribute(module, reference, name)
        call, shown = (lambda: factory(**kwargs)), f"{name}()"
    try:
        model = call()
    except TargetError:
        raise
    except Exception as error:
        raise TargetError("build", f"{shown} failed: {type(error).__name__}: {error}") from error
    if not isinstance(model, nn.Module):
        raise TargetError("build", f"{shown} returned a {type(model).__name__}, not a torch.nn.Module")
    return model, module


def vocab_size_of(model: nn.Module) -> Optional[int]:
    """The vocabulary size of a Hugging Face model's config, if it has one."""
    size = getattr(getattr(model, "config", None), "vocab_size", None)
    return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None


def _read(path: str) -> Any:
    if path.endswith(".safetensors"):
        if importlib.util.find_spec("safetensors") is None:
            raise TargetError("weights", f"reading {path} needs safetensors, which is not installed: pip install safetensors")
        # Imported by name: an optional package, without type stubs.
        return importlib.import_module("safetensors.torch").load_file(path, device="cpu")
    return torch.load(path, map_location="cpu", weights_only=True)


def _state_dict(state: Any, path: str) -> dict[str, Any]:
    """The model's state dict in a checkpoint: the file itself, or what it keeps under
    ``state_dict``, ``model_state_dict`` or ``model`` (nested ones too)."""
    while isinstance(state, Mapping) and not all(isinstance(v, torch.Tensor) for v in state.values()):
        inner = next((state[k] for k in _CHECKPOINT_KEYS if isinstance(state.get(k), Mapping)), None)
        if inner is None:
            keys = ", ".join(sorted(map(str, state))[:8])
            raise TargetError(
                "weights",
                f"{path} holds a checkpoint ({keys}) with no state dict under state_dict, model_state_dict or model",
            )
        state = inner
    if not isinstance(state, Mapping):
        raise TargetError("weights", f"{path} holds a {type(state).__name__}, not a state dict")
    return dict(state)


def _without_prefix(state: dict[str, Any], model: nn.Module) -> dict[str, Any]:
    """Keys saved with a wrapper's prefix (``module.`` of DataParallel, ``model.`` of a
    Lightning module) lose it when that makes them the model's."""
    wanted = set(model.state_dict())
    if not state or set(state) & wanted:
        return state
    prefixes = {key.split(".", 1)[0] for key in state}
    if len(prefixes) != 1 or not all("." in key for key in state):
        return state
    stripped = {key.split(".", 1)[1]: value for key, value in state.items()}
    return stripped if set(stripped) & wanted else state


def load_weights(model: nn.Module, path: str) -> None:
    if not os.path.isfile(path):
        raise TargetError("weights", f"no such file: {path}")
    try:
        raw = _read(path)
    except TargetError:
        raise
    except Exception as error:
        raise TargetError("weights", f"loading {path} failed: {type(error).__name__}: {error}") from error
    state = _without_prefix(_state_dict(raw, path), model)
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
    model_module: Optional[ModuleType],
    device: torch.device,
    *,
    vocab_size: Optional[int] = None,
    as_dict: bool = False,
) -> Inputs:
    if specs:
        return make_tensors(specs, device, vocab_size=vocab_size, as_dict=as_dict)
    if as_dict:
        raise TargetError("input", "--dict-input passes the --input values as one dict: give them, like x=float[8,784]")
    function: Any = None
    if example is not None:
        reference, name = split_target(example)
        function = _attribute(_load_module(reference), reference, name)
    elif model_module is not None:
        function = getattr(model_module, "example_inputs", None)
    if function is None:
        raise TargetError(
            "input",
            "no example input: give --input float[8,784] (or --input-shape 8,784), "
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
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    return value
