"""Which modules are dropouts, told by what they do rather than by their names.

A module is a candidate when its own ``forward`` drew random numbers (or called a
functional dropout) in the training pass and it holds no parameters. It is a dropout
when, run in training mode on a positive input, it returns a tensor of the input's
shape in which some values, but not all, are zero; what it drops together (single
values, whole channels, whole samples) says its kind. A module that adds noise zeroes
nothing and is not a dropout; one that drops everything at once in one call (stochastic
depth in ``batch`` mode) has a rate one call cannot measure, and is left alone.
"""

from __future__ import annotations

import math
import re
from typing import Optional

import torch
from torch import Tensor, nn

from dropout_lint.tracer.preserve import left_as_found

_UNITS = 65_536
# Per rank: enough samples, channels and values for the rate of each kind.
_SHAPES: dict[int, tuple[int, ...]] = {
    1: (_UNITS,),
    2: (4096, 16),
    3: (1024, 16, 4),
    4: (512, 8, 4, 4),
    5: (256, 8, 2, 2, 4),
}


def probe_shape(rank: int) -> tuple[int, ...]:
    """An input of the rank a module was called with, large enough to measure it."""
    if rank in _SHAPES:
        return _SHAPES[rank]
    return (256, 8) + (2,) * (rank - 3) + (_UNITS // (256 * 8 * 2 ** (rank - 3)),)


def _whole(dropped: Tensor, rows: int) -> bool:
    """Whether each of ``rows`` rows is dropped entirely or not at all."""
    grouped = dropped.reshape(rows, -1)
    return grouped.shape[1] > 1 and bool((grouped.all(dim=1) | (~grouped).all(dim=1)).all())


def dropout_kind(module: nn.Module, rank: int) -> Optional[str]:
    """``element``, ``channel`` or ``sample`` for a module that drops like dropout on an
    input of this rank, None for one that does not. The module is left as found."""
    shape = probe_shape(rank)
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(shape, generator=generator, dtype=torch.float64) + 0.5
    with left_as_found(module), torch.no_grad():
        module.train()
        try:
            y = module(x.clone())
        except Exception:  # it does not take a single tensor: not a dropout layer
            return None
    if not isinstance(y, Tensor) or y.shape != x.shape:
        return None
    dropped = y == 0
    if not bool(dropped.any()) or bool(dropped.all()):
        return None
    if _whole(dropped, shape[0]):
        return "sample"
    if len(shape) >= 3 and _whole(dropped, shape[0] * shape[1]):
        return "channel"
    return "element"


def declared_kind(module: nn.Module) -> Optional[str]:
    """What a dropout says it drops: a torch dropout class, or words of its class name
    (``DropPath``, ``StochasticDepth``: samples; ``SpatialDropout``, ``Dropout2d``:
    channels). None when it says nothing."""
    if isinstance(module, nn.FeatureAlphaDropout):
        return "feature-alpha"
    if isinstance(module, nn.AlphaDropout):
        return "alpha"
    if isinstance(module, (nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)):
        return "channel"
    if isinstance(module, nn.Dropout):
        return "element"
    name = type(module).__name__
    if re.search(r"Path|Depth", name):
        return "sample"
    if re.search(r"Dropout[123][dD]\b|Spatial|Channel", name):
        return "channel"
    return None


def rate_of(module: nn.Module) -> Optional[float]:
    """The rate a dropout module declares, under the names real code uses."""
    for attribute in ("p", "drop_prob", "rate", "dropout", "drop_rate"):
        value = getattr(module, attribute, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1 and math.isfinite(value):
            return float(value)
    return None


def torch_own(module: nn.Module) -> bool:
    """Whether the module's forward is torch's own (``nn.Dropout`` and friends, or a
    subclass that does not override ``forward``): torch's dropouts are the reference."""
    return str(getattr(type(module).forward, "__module__", "")).startswith("torch.")
