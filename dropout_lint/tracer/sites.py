"""Which modules a trace finding is about, and where each was built.

A finding names a file and line. The modules it is about are the dropout modules called
or built on that line and the modules whose class's code holds it (the module whose
``forward`` made the call or drew the random numbers, and its subclasses' instances).
Each is given with its path in the model (as ``named_modules()`` spells it; ``""`` for
the model itself, ``None`` for a module outside the tree) and its construction line, so
that the parent process can honour ``# noqa`` on that line and ``stochastic-modules``.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Optional

import torch
from torch import nn
from torch.nn.modules.dropout import _DropoutNd

from dropout_lint.tracer.instrument import call_site

_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))
_TRACER_DIR = os.path.dirname(os.path.abspath(__file__))
_DROP_NAMES = re.compile(r"drop", re.IGNORECASE)

Site = tuple[Optional[str], Optional[int]]


@dataclass
class ModuleSites:
    """Where modules were built and called while ``watching_modules()`` was active."""

    built: dict[int, Site] = field(default_factory=dict)
    called: dict[Site, list[nn.Module]] = field(default_factory=dict)
    # Modules built or called, kept alive so that their ids are not reused.
    seen: dict[int, nn.Module] = field(default_factory=dict)


def _construction_site(module: nn.Module) -> Site:
    """The line that builds ``module``: the first frame outside torch that is not one of
    its own classes' ``__init__``; None when the tracer itself built it."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename.startswith(_TRACER_DIR):
            return None, None
        if not filename.startswith(_TORCH_DIR) and frame.f_locals.get("self") is not module:
            return filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None, None


@contextmanager
def watching_modules() -> Iterator[ModuleSites]:
    """Record where every module is built (``nn.Module.__init__``) and called."""
    sites = ModuleSites()
    original = nn.Module.__init__

    def init(self: nn.Module, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if id(self) not in sites.built:
            sites.built[id(self)] = _construction_site(self)
            sites.seen[id(self)] = self

    def called(module: nn.Module, args: Any, output: Any) -> None:
        if _is_dropout(module):
            sites.called.setdefault(call_site(), []).append(module)
            sites.seen[id(module)] = module

    nn.Module.__init__ = init  # type: ignore[method-assign]
    handle = torch.nn.modules.module.register_module_forward_hook(called)
    try:
        yield sites
    finally:
        nn.Module.__init__ = original  # type: ignore[method-assign]
        handle.remove()


def _is_dropout(module: nn.Module) -> bool:
    return isinstance(module, _DropoutNd) or bool(_DROP_NAMES.search(type(module).__name__))


_RANGES: dict[type, list[tuple[str, int, int]]] = {}


def _class_ranges(cls: type) -> list[tuple[str, int, int]]:
    """(file, first line, last line) of each class of ``cls``'s own code (not torch's)."""
    if cls not in _RANGES:
        ranges = []
        for klass in cls.__mro__:
            module = sys.modules.get(klass.__module__)
            path = getattr(module, "__file__", None)
            if path is None or os.path.abspath(path).startswith(_TORCH_DIR) or klass is object:
                continue
            try:
                lines, first = inspect.getsourcelines(klass)
                source = inspect.getsourcefile(klass)
            except (OSError, TypeError):
                continue
            if source is not None:
                ranges.append((os.path.abspath(source), first, first + len(lines) - 1))
        _RANGES[cls] = ranges
    return _RANGES[cls]


def subjects(model: nn.Module, sites: ModuleSites, file: Optional[str], line: Optional[int]) -> list[dict[str, Any]]:
    """The modules a finding at ``file:line`` is about, as plain values."""
    if file is None or line is None:
        return []
    place = (os.path.abspath(file), line)
    paths = {id(m): name for name, m in model.named_modules()}
    found: dict[int, nn.Module] = {}
    for module in sites.called.get(place, []):
        found[id(module)] = module
    for key, where in sites.built.items():
        if where == place and _is_dropout(sites.seen[key]):
            found[key] = sites.seen[key]
    for _, module in model.named_modules():
        if any(path == place[0] and first <= line <= last for path, first, last in _class_ranges(type(module))):
            found[id(module)] = module
    out = []
    for key, module in found.items():
        built = sites.built.get(key, (None, None))
        out.append(
            {
                "path": paths.get(key),
                "class": type(module).__name__,
                "built": list(built) if built[0] is not None else None,
            }
        )
    return out
