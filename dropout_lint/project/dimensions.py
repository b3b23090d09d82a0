"""The dimensions of a module's layers, as the instantiations in the run decide them.

MONAI builds layers of a dimension given by an ``__init__`` parameter
(``Conv[Conv.CONV, spatial_dims]``, ``Dropout[Dropout.DROPOUT, dropout_dim]``): which
torch class such a layer is depends on what the callers pass. A layer of a fixed class
(``nn.Dropout3d``, ``Conv[Conv.CONV, 2]``) has the one dimension it is written with.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional

from dropout_lint.project.index import Located, ProjectIndex
from dropout_lint.project.rates import ArgumentOf, values_given
from dropout_lint.project.summary import Layer
from dropout_lint.records import record

# The layers whose dimension is the rank of the maps they take or give.
_SPATIAL = frozenset({"conv", "batchnorm", "norm", "pool"})


@record
class LayerDimension:
    """A layer of a module with the dimensions the run builds it with."""

    attr: str
    layer: Layer
    kind: str  # "dropout" (MONAI's table: 1 is nn.Dropout), "channel_dropout", or a spatial kind
    param: Optional[str]  # the `__init__` parameter that gives the dimension; None: written
    # Each dimension an instantiation seen gives it (the parameter's default where it is
    # not passed); None for one the run does not know, a value the callers choose.
    # None as a whole: the class is not built in the run.
    values: Optional[frozenset[Optional[int]]]


def layer_dimensions(index: ProjectIndex, located: Located) -> Iterator[LayerDimension]:
    """The module's registered layers whose dimension matters (channel dropout and the
    spatial layers), when one of them takes it from a parameter; nothing otherwise."""
    cls = located.cls
    layers = [(attr, layer) for attr, layer in cls.layers if layer.dimension is not None or _written(layer) is not None]
    if not any(layer.dimension is not None for _, layer in layers):
        return
    given = _given(index)
    for attr, layer in layers:
        dimension = layer.dimension
        if dimension is not None and dimension.dims.param is not None:
            values = given.get((located.qualname, dimension.dims.param))
            yield LayerDimension(attr, layer, dimension.kind, dimension.dims.param, values)
            continue
        written = _written(layer)
        if written is not None and layer.type is not None:
            yield LayerDimension(attr, layer, layer.type.kind, None, frozenset({written}))


def _written(layer: Layer) -> Optional[int]:
    """The dimension of a layer of a fixed class that tells a rank (BatchNorm1d takes
    (N, C) and (N, C, L) alike, so it tells none)."""
    kind = layer.type.kind if layer.type is not None else None
    dims = layer.type.dims if layer.type is not None else None
    if kind == "channel_dropout" or (kind in _SPATIAL and not (kind == "batchnorm" and dims == 1)):
        return dims
    return None


def _given(index: ProjectIndex) -> dict[ArgumentOf, Optional[frozenset[Optional[int]]]]:
    """The dimensions given to every parameter that gives a layer factory its dimension
    (found once per run)."""

    def build() -> dict[ArgumentOf, Optional[frozenset[Optional[int]]]]:
        wanted: set[ArgumentOf] = set()
        for located in index.module_classes(having="dimensions"):
            for _, layer in located.cls.layers:
                if layer.dimension is not None and layer.dimension.dims.param is not None:
                    wanted.add((located.qualname, layer.dimension.dims.param))
        return {pair: _as_dimensions(found) for pair, found in values_given(index, wanted).items()}

    return index.shared("factory_dimensions", build)


def _as_dimensions(found: Optional[frozenset[Optional[float]]]) -> Optional[frozenset[Optional[int]]]:
    if found is None:
        return None
    return frozenset(int(value) if value is not None and value == int(value) else None for value in found)
