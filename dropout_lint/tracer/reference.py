"""The reference dropout of the article, and a conformance check against it.

Inverted dropout: in training each unit is zeroed with probability ``p`` and the units
kept are scaled by ``1 / (1 - p)``, so the expected value of every unit is unchanged; at
inference every unit is used and nothing is scaled. Alpha dropout (for SELU networks)
sets dropped units to SELU's negative saturation value and applies an affine correction
that keeps the mean and variance.

``check_dropout(fn, p)`` runs an implementation through the sub-tests below and returns a
report; use it on a dropout of your own::

    from dropout_lint.tracer.reference import check_dropout
    report = check_dropout(MyDropout(0.2), p=0.2)
    assert report.passed, report.describe()

Sub-tests:

- ``rate``: the fraction dropped is ``p`` within a statistical bound (six standard
  deviations of the binomial fraction: a false alarm about once in a billion checks);
- ``scale``: kept units are scaled by exactly ``1 / (1 - p)`` (alpha: ``a * x + b``);
- ``eval-identity``: in eval mode the output equals the input;
- ``gradient``: the gradient is the mask scaled like the values;
- ``granularity``: units (element), whole channels (channel) or whole samples (sample:
  stochastic depth) are dropped;
- ``fresh-mask``: two calls draw different masks.

Every sub-test feeds the implementation a copy of its input, so an in-place dropout
(``nn.Dropout(p, inplace=True)``) is checked like any other. The implementation is left
as found: its parameters, buffers, gradients and mode, and the random generators of
torch, Python and NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Optional, Union

import torch
from torch import Tensor, nn

from dropout_lint.tracer.preserve import left_as_found

# SELU's negative saturation value: -scale * alpha.
SELU_SATURATION = -1.7580993408473766
_SIGMAS = 6.0

Implementation = Union[nn.Module, Callable[[Tensor, bool], Tensor]]
KINDS = ("element", "channel", "sample", "alpha", "feature-alpha")


def inverted_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """The article's dropout: drop with probability p, scale the rest by 1/(1-p)."""
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return torch.zeros_like(x)
    mask = (torch.rand_like(x) >= p).to(x.dtype)
    return x * mask / (1.0 - p)


def alpha_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Alpha dropout: dropped units take SELU's saturation value, then an affine map
    keeps zero mean and unit variance."""
    if not training or p == 0.0:
        return x
    keep = (torch.rand_like(x) >= p).to(x.dtype)
    a, b = alpha_coefficients(p)
    return a * (x * keep + SELU_SATURATION * (1.0 - keep)) + b


def alpha_coefficients(p: float) -> tuple[float, float]:
    a = ((1.0 - p) * (1.0 + p * SELU_SATURATION**2)) ** -0.5
    b = -a * SELU_SATURATION * p
    return a, b


@dataclass(frozen=True)
class SubtestResult:
    name: str
    passed: bool
    detail: str


@dataclass
class ConformanceReport:
    implementation: str
    p: float
    kind: str
    results: list[SubtestResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> list[SubtestResult]:
        return [result for result in self.results if not result.passed]

    def describe(self) -> str:
        lines = [f"{self.implementation} (p={self.p:g}, {self.kind}): {'passes' if self.passed else 'fails'}"]
        lines.extend(f"  {'ok  ' if r.passed else 'FAIL'} {r.name}: {r.detail}" for r in self.results)
        return "\n".join(lines)


def _apply(fn: Implementation, x: Tensor, training: bool) -> Tensor:
    if isinstance(fn, nn.Module):
        fn.train(training)
        return fn(x)  # type: ignore[no-any-return]
    return fn(x, training)


def _name(fn: Implementation) -> str:
    if isinstance(fn, nn.Module):
        return type(fn).__name__
    return getattr(fn, "__qualname__", repr(fn))


def _shape(fn: Implementation, kind: str) -> tuple[int, ...]:
    """An input shape where the unit the kind drops is plentiful."""
    if kind in ("channel", "feature-alpha"):
        # 4,096 channels (batch 32 x 128 channels) of 16 units, in the rank the layer wants.
        if isinstance(fn, nn.Dropout1d):
            return (32, 128, 16)
        if isinstance(fn, nn.Dropout3d):
            return (32, 128, 2, 2, 4)
        return (32, 128, 4, 4)
    if kind == "sample":
        return (4096, 16)  # 4,096 samples
    return (64, 1024)  # 65,536 units


def _sample(shape: tuple[int, ...], kind: str, generator: torch.Generator) -> Tensor:
    """A positive input (so that a zero in the output is a dropped unit); standard normal
    for alpha dropout, which expects SELU's normalised activations."""
    if kind in ("alpha", "feature-alpha"):
        return torch.randn(shape, generator=generator, dtype=torch.float64)
    return torch.rand(shape, generator=generator, dtype=torch.float64) + 0.5


def _whole(kind: str, dropped: Tensor) -> Tensor:
    """The mask as one row per unit the kind drops as a whole (a channel, a sample)."""
    if kind in ("channel", "feature-alpha"):
        return dropped.reshape(dropped.shape[0] * dropped.shape[1], -1)
    if kind == "sample":
        return dropped.reshape(dropped.shape[0], -1)
    return dropped.reshape(-1, 1)


def _units(kind: str, dropped: Tensor) -> Tensor:
    """One boolean per unit that the kind drops as a whole (True = dropped)."""
    return _whole(kind, dropped).all(dim=1)


def check_dropout(
    fn: Implementation,
    p: float,
    *,
    kind: str = "element",
    seed: int = 0,
    shape: Optional[tuple[int, ...]] = None,
) -> ConformanceReport:
    """Check a dropout implementation against the reference.

    ``fn`` is a module (switched with ``train()``/``eval()``) or a function
    ``fn(x, training)``. ``kind`` says what it drops: ``element`` (``nn.Dropout``),
    ``channel`` (``nn.Dropout1d/2d/3d``, the second dimension), ``sample`` (stochastic
    depth, the first dimension), ``alpha`` or ``feature-alpha``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1) for a conformance check")
    report = ConformanceReport(_name(fn), p, kind)
    generator = torch.Generator().manual_seed(seed)
    # The module's parameters, buffers, mode and gradients and the random generators are
    # put back afterwards: checking a dropout changes nothing the caller can see.
    with left_as_found(fn if isinstance(fn, nn.Module) else None):
        torch.manual_seed(seed)
        x = _sample(shape or _shape(fn, kind), kind, generator)
        try:
            first = _apply(fn, x.clone(), True).detach()
            second = _apply(fn, x.clone(), True).detach()
            evaluated = _apply(fn, x.clone(), False).detach()
        except Exception as error:  # the implementation cannot even run: every sub-test fails
            report.results.append(SubtestResult("runs", False, f"{type(error).__name__}: {error}"))
            return report
        report.results.extend(
            [
                _rate(kind, x, first, p),
                _scale(kind, x, first, p),
                _eval_identity(x, evaluated),
                _gradient(fn, kind, x, p),
                _granularity(kind, x, first, p),
                _fresh(kind, x, first, second),
            ]
        )
    return report


def _dropped(kind: str, x: Tensor, y: Tensor, p: float) -> Tensor:
    if kind in ("alpha", "feature-alpha"):
        a, b = alpha_coefficients(p)
        return torch.isclose(y, torch.full_like(y, a * SELU_SATURATION + b), rtol=1e-6, atol=1e-9)
    return y == 0


def _rate(kind: str, x: Tensor, y: Tensor, p: float) -> SubtestResult:
    units = _units(kind, _dropped(kind, x, y, p))
    n = units.numel()
    rate = units.double().mean().item()
    bound = _SIGMAS * math.sqrt(p * (1 - p) / n) + 1e-3
    ok = abs(rate - p) <= bound
    detail = f"dropped {rate:.4f} of {n} units, expected {p:g} ± {bound:.4f}"
    if not ok and abs(rate - (1 - p)) <= bound:
        detail += " (p used as the keep probability?)"
    return SubtestResult("rate", ok, detail)


def _scale(kind: str, x: Tensor, y: Tensor, p: float) -> SubtestResult:
    kept = ~_dropped(kind, x, y, p)
    if not kept.any():
        return SubtestResult("scale", False, "nothing was kept")
    if kind in ("alpha", "feature-alpha"):
        a, b = alpha_coefficients(p)
        expected = a * x[kept] + b
        what = "a * x + b"
    else:
        expected = x[kept] / (1 - p)
        what = f"x / (1 - p) = x * {1 / (1 - p):.4f}"
    ok = torch.allclose(y[kept], expected, rtol=1e-4, atol=1e-6)
    ratio = (y[kept] / x[kept]).mean().item() if kind not in ("alpha", "feature-alpha") else float("nan")
    detail = f"kept units are {what}" if ok else f"kept units are not {what}"
    if not ok and ratio == ratio:
        detail += f" (they are x * {ratio:.4f})"
    return SubtestResult("scale", ok, detail)


def _eval_identity(x: Tensor, y: Tensor) -> SubtestResult:
    ok = torch.equal(x, y)
    detail = "eval output equals the input" if ok else "eval output differs from the input (dropped or scaled at eval)"
    return SubtestResult("eval-identity", ok, detail)


def _gradient(fn: Implementation, kind: str, x: Tensor, p: float) -> SubtestResult:
    leaf = x.clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            # A copy of the leaf, as in a network: an in-place dropout (``inplace=True``)
            # may not write into a leaf that requires grad, and writes into this one.
            y = _apply(fn, leaf.clone(), True)
            y.sum().backward()  # type: ignore[no-untyped-call]
    except Exception as error:
        return SubtestResult("gradient", False, f"backward failed: {type(error).__name__}: {error}")
    grad = leaf.grad
    if grad is None:
        return SubtestResult("gradient", False, "no gradient reaches the input")
    kept = ~_dropped(kind, x, y.detach(), p)
    if kind in ("alpha", "feature-alpha"):
        a, _ = alpha_coefficients(p)
        expected = kept.to(x.dtype) * a
    else:
        expected = kept.to(x.dtype) / (1 - p)
    ok = torch.allclose(grad, expected, rtol=1e-4, atol=1e-6)
    detail = "the gradient is the mask scaled like the values" if ok else "the gradient is not the mask scaled like the values"
    return SubtestResult("gradient", ok, detail)


def _granularity(kind: str, x: Tensor, y: Tensor, p: float) -> SubtestResult:
    dropped = _dropped(kind, x, y, p)
    if kind == "alpha":
        kind = "element"
    elif kind == "feature-alpha":
        kind = "channel"
    if kind in ("channel", "sample"):
        rows = _whole(kind, dropped)
        ok = bool((rows.all(dim=1) | (~rows).all(dim=1)).all())
        unit = "channel" if kind == "channel" else "sample"
        detail = f"each {unit} is dropped whole" if ok else f"some {unit}s are only partly dropped"
        return SubtestResult("granularity", ok, detail)
    rows = dropped.reshape(dropped.shape[0], -1)
    mixed = (rows.any(dim=1) & (~rows).any(dim=1)).double().mean().item()
    ok = mixed > 0.5
    detail = "single units are dropped" if ok else "whole rows are dropped together, not single units"
    return SubtestResult("granularity", ok, detail)


def _fresh(kind: str, x: Tensor, first: Tensor, second: Tensor) -> SubtestResult:
    ok = not torch.equal(first, second)
    detail = "each call draws a new mask" if ok else "two calls dropped the same units (a fixed mask)"
    return SubtestResult("fresh-mask", ok, detail)
