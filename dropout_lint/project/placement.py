"""Where layers sit in a model: ``forward``'s operations with the layers they apply,
``nn.Sequential`` blocks unrolled into their layers, and the questions placement rules
ask (first layer on the input, the layer that makes the output, what follows a layer).

Every answer is None when the flow is not understood; rules make no finding from None.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Optional

from dropout_lint.analysis.layers import LayerType
from dropout_lint.project.place import Place
from dropout_lint.project.summary import INPUT, Flow, FlowOp, Layer, Rate
from dropout_lint.records import record

# Layers that keep the rank of their input: looking back for the layer that decided
# the rank of a value passes through them.
_RANK_KEEPING = frozenset(
    {"activation", "dropout", "channel_dropout", "alpha_dropout", "identity", "norm", "selu", "combine"}
)
_TRANSPARENT_LAYERS = frozenset({"shape", "identity"})
_COMBINE = LayerType("combine")


@record
class Step:
    """One operation of a model, with the layer it applies when known."""

    name: str  # "self.drop", "nn.Dropout", "F.relu"...
    place: Place
    inputs: tuple[Optional[int], ...]
    type: Optional[LayerType] = None
    layer: Optional[Layer] = None
    rate: Optional[Rate] = None
    conditional: bool = False
    reshape: bool = False
    rank_change: bool = False
    attr: Optional[str] = None
    op: Optional[FlowOp] = None

    @property
    def kind(self) -> Optional[str]:
        return self.type.kind if self.type is not None else None

    @property
    def is_dropout(self) -> bool:
        return self.type is not None and self.type.is_dropout


def unroll(layers: Sequence[Layer]) -> tuple[list[Step], list[Optional[int]]]:
    """A chain of layers (an ``nn.Sequential``) as steps taking the model's input,
    nested blocks unrolled; with the step that gives the output."""
    steps: list[Step] = []
    last = _chain(layers, (INPUT,), steps, conditional=False)
    return steps, [last]


def _chain(
    layers: Sequence[Layer],
    inputs: tuple[Optional[int], ...],
    steps: list[Step],
    conditional: bool,
) -> Optional[int]:
    current = inputs
    last: Optional[int] = None
    for layer in layers:
        if layer.type is not None and layer.type.kind == "sequential" and layer.children:
            last = _chain(layer.children, current, steps, conditional)
        else:
            steps.append(
                Step(
                    name=layer.name,
                    place=layer.place,
                    inputs=current,
                    type=layer.type,
                    layer=layer,
                    rate=layer.rate,
                    conditional=conditional,
                    reshape=layer.type is not None and layer.type.kind in _TRANSPARENT_LAYERS,
                    rank_change=layer.type is not None and layer.type.kind == "shape",
                )
            )
            last = len(steps) - 1
        current = (last,)
    return last


def expand(flow: Flow, layers: Mapping[str, Layer]) -> tuple[list[Step], list[Optional[int]]]:
    """``forward``'s operations as steps, each ``nn.Sequential`` it applies unrolled.
    Returns the steps and the step (or input) each return statement gives back."""
    steps: list[Step] = []
    mapping: dict[int, Optional[int]] = {}

    def ref(value: Optional[int]) -> Optional[int]:
        if value is None or value < 0:
            return value
        return mapping.get(value)

    for index, op in enumerate(flow.ops):
        inputs = tuple(ref(v) for v in op.inputs)
        layer = layers.get(op.attr) if op.kind == "attr" and op.attr is not None and not op.callee.endswith("[]") else None
        if layer is not None and layer.type is not None and layer.type.kind == "sequential" and layer.children:
            mapping[index] = _chain(layer.children, inputs[:1] or (None,), steps, op.conditional)
            continue
        if layer is not None:
            step = Step(
                name=op.callee,
                place=op.place,
                inputs=inputs,
                type=layer.type,
                layer=layer,
                rate=layer.rate,
                conditional=op.conditional,
                reshape=layer.type is not None and layer.type.kind in _TRANSPARENT_LAYERS,
                rank_change=layer.type is not None and layer.type.kind == "shape",
                attr=op.attr,
                op=op,
            )
        else:
            step = Step(
                name=op.callee,
                place=op.place,
                inputs=inputs,
                type=_COMBINE if op.kind == "combine" else op.type,
                rate=op.rate,
                conditional=op.conditional,
                reshape=op.reshape,
                rank_change=op.reshape and op.callee.rsplit(".", 1)[-1] in _RANK_CHANGERS,
                attr=op.attr,
                op=op,
            )
        steps.append(step)
        mapping[index] = len(steps) - 1
    returns = [ref(value) for value in flow.returns]
    return steps, returns


_RANK_CHANGERS = frozenset({"view", "reshape", "flatten", "unsqueeze", "squeeze", "view_as", "reshape_as"})


def _through_reshapes(steps: Sequence[Step], value: Optional[int]) -> Optional[int]:
    """The value behind any reshapes (``x.view(...)`` of a value is that value)."""
    seen = 0
    while value is not None and value >= 0 and steps[value].reshape and seen < 64:
        inputs = steps[value].inputs
        value = inputs[0] if inputs else None
        seen += 1
    return value


def first_on_input(steps: Sequence[Step], parameter: int = 0) -> Optional[Step]:
    """The first layer applied to a raw input (reshapes looked through), or None when
    that depends on a branch or is not understood."""
    raw = {INPUT - parameter}
    for index, step in enumerate(steps):
        if not any(v in raw for v in step.inputs):
            continue
        if step.reshape:
            raw.add(index)
            continue
        return None if step.conditional else step
    return None


def output_steps(steps: Sequence[Step], returns: Sequence[Optional[int]]) -> Optional[list[Step]]:
    """The layer that makes each returned value, or None if any is not understood."""
    if not returns:
        return None
    out = []
    for value in returns:
        value = _through_reshapes(steps, value)
        if value is None or value < 0:
            return None
        out.append(steps[value])
    return out


def consumers(steps: Sequence[Step], index: int) -> Iterator[Step]:
    """The steps that take step ``index``'s output directly (reshapes looked through)."""
    values = {index}
    for i, step in enumerate(steps):
        if i <= index or not any(v in values for v in step.inputs):
            continue
        if step.reshape:
            values.add(i)
            continue
        yield step


def rank_source(steps: Sequence[Step], index: int) -> Optional[Step]:
    """The layer that gave step ``index``'s input its rank: looking back through layers
    that keep the rank; None if a reshape or an unknown operation is in the way."""
    value = steps[index].inputs[0] if steps[index].inputs else None
    for _ in range(64):
        if value is None or value < 0:
            return None
        step = steps[value]
        if step.rank_change:
            return None
        # BatchNorm1d takes (N, C) and (N, C, L) alike: it tells nothing about the rank.
        batchnorm_1d = step.kind == "batchnorm" and step.type is not None and step.type.dims == 1
        if step.reshape or step.kind in _RANK_KEEPING or batchnorm_1d:
            value = step.inputs[0] if step.inputs else None
            continue
        return step if step.type is not None else None
    return None
