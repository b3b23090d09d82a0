from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from dropout_lint.catalog import DL105 as RULE
from dropout_lint.checks._placement import drops, where
from dropout_lint.project.dimensions import LayerDimension, layer_dimensions
from dropout_lint.project.index import Located, step_lists
from dropout_lint.project.place import LINE
from dropout_lint.project.placement import Step, rank_source
from dropout_lint.rule import ProjectCheck, ProjectFinding

_EXPECTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_FEATURES = frozenset({"linear", "embedding", "rnn", "attention"})


class DropoutDimensionMismatch(ProjectCheck):
    rule = RULE

    def run(self) -> Iterator[ProjectFinding]:
        for steps in step_lists(self.index):
            for index, step in enumerate(steps):
                if step.kind != "channel_dropout" or not drops(self.index, step) or step.type is None:
                    continue
                source = rank_source(steps, index)
                message = _message(step, source)
                if source is not None and message is not None:
                    yield ProjectFinding(step.place, message, (source.place,))
        for located in self.index.module_classes(having="dimensions"):
            yield from self._fixed_beside_chosen(located)

    def _fixed_beside_chosen(self, located: Located) -> Iterator[ProjectFinding]:
        """A channel dropout of one dimension in a module whose convolutions take theirs
        from a parameter that the callers set otherwise, or may: MONAI's VNet blocks build
        `Dropout[Dropout.DROPOUT, dropout_dim]` (3 wherever built) beside
        `Conv[Conv.CONV, spatial_dims]`, and `VNet(spatial_dims=2)` gives Dropout3d 4-d maps."""
        found = list(layer_dimensions(self.index, located))
        flow = self.index.forward(located.cls)
        if flow is None:
            return
        for dropout in found:
            dims = _fixed(dropout)
            if dims is None:
                continue
            spatial = next((layer for layer in found if _disagrees(layer, dropout, dims)), None)
            if spatial is None:
                continue
            message = _fixed_message(dropout, dims, spatial)
            for op in flow.ops:
                if op.kind == "attr" and op.attr == dropout.attr and not op.callee.endswith("[]"):
                    yield ProjectFinding(op.place, message, (spatial.layer.place,))


def _message(step: Step, source: Optional[Step]) -> Optional[str]:
    dims = step.type.dims if step.type is not None else None
    if source is None or source.type is None or dims is None:
        return None
    if source.kind in _FEATURES:
        return (
            f"channel dropout on features without channels: `{step.name}` gets the output of "
            f"{where(source)}; use `nn.Dropout`"
        )
    if source.kind in ("conv", "batchnorm", "pool") and source.type.dims is not None and source.type.dims != dims:
        expects = _EXPECTS.get(dims, "(N, C, ...)")
        return (
            f"channel dropout of the wrong rank: `{step.name}` expects {expects} but {where(source)} "
            f"gives {source.type.dims}-d maps; use `nn.Dropout{source.type.dims}d`"
        )
    return None


def _fixed(dropout: LayerDimension) -> Optional[int]:
    """The one dimension a channel dropout is built with wherever the run builds it."""
    values = dropout.values
    if dropout.kind not in ("dropout", "channel_dropout") or values is None or len(values) != 1:
        return None
    [dims] = values
    if dims is None or (dropout.kind == "dropout" and dims == 1):
        return None  # MONAI's dimension 1 is plain nn.Dropout, right for any rank
    return dims


def _disagrees(layer: LayerDimension, dropout: LayerDimension, dims: int) -> bool:
    """A spatial layer whose dimension comes from another parameter than the dropout's
    (one of the two from a parameter) and is not that dimension wherever built."""
    if layer.kind in ("dropout", "channel_dropout") or layer.param == dropout.param:
        return False
    return layer.values is not None and layer.values != frozenset({dims})


def _fixed_message(dropout: LayerDimension, dims: int, spatial: LayerDimension) -> str:
    if dropout.param is not None:
        fixed = f"`{dropout.param}` is {dims} wherever the class is built"
    else:
        fixed = "its class is written"
    values = spatial.values or frozenset()
    if spatial.param is None:
        chosen = f"`self.{spatial.attr}` (line {LINE}) is {_known(values)}-d"
    elif None in values:
        chosen = f"`self.{spatial.attr}` (line {LINE}) takes its dimension from `{spatial.param}`, which callers choose"
    else:
        chosen = f"`self.{spatial.attr}` (line {LINE}) takes its dimension from `{spatial.param}`, {_known(values)} where built"
    return (
        f"channel dropout of a fixed rank: `self.{dropout.attr}` is `nn.Dropout{dims}d` ({fixed}) but {chosen}, "
        f"so maps of another rank than {_EXPECTS[dims]} may reach it; give the dropout the convolution's dimension"
    )


def _known(values: frozenset[Optional[int]]) -> str:
    return " or ".join(str(value) for value in sorted(value for value in values if value is not None))
