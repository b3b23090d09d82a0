"""What kind of layer a torch class or function is, as far as dropout placement cares.

Kinds: ``dropout`` (element-wise), ``channel_dropout`` (Dropout1d/2d/3d, with ``dims``),
``alpha_dropout``, ``batchnorm`` (with ``dims``), ``linear``, ``conv`` (with ``dims``),
``embedding``, ``activation`` (shape-preserving), ``selu``, ``norm``, ``pool``,
``shape`` (Flatten and friends), ``identity``, ``rnn``, ``attention``, ``sequential``,
``module_list``, ``module_dict``, and ``torch`` for any other torch.nn class.
"""

from __future__ import annotations

import re
from typing import Optional

from dropout_lint.analysis.torch_api import canonical
from dropout_lint.records import record


@record
class LayerType:
    kind: str
    dims: Optional[int] = None

    @property
    def is_dropout(self) -> bool:
        return self.kind in ("dropout", "channel_dropout", "alpha_dropout")


_DIMS = re.compile(r"(\d)d$")

_MODULE_KINDS = {
    "Dropout": "dropout",
    "AlphaDropout": "alpha_dropout",
    "FeatureAlphaDropout": "alpha_dropout",
    "Linear": "linear",
    "Bilinear": "linear",
    "LazyLinear": "linear",
    "Embedding": "embedding",
    "EmbeddingBag": "embedding",
    "SELU": "selu",
    "Sequential": "sequential",
    "ModuleList": "module_list",
    "ModuleDict": "module_dict",
    "Identity": "identity",
    "Flatten": "shape",
    "Unflatten": "shape",
    "LayerNorm": "norm",
    "GroupNorm": "norm",
    "RMSNorm": "norm",
    "LocalResponseNorm": "norm",
    "LSTM": "rnn",
    "GRU": "rnn",
    "RNN": "rnn",
    "MultiheadAttention": "attention",
}
_ACTIVATIONS = frozenset(
    {
        "ReLU", "ReLU6", "LeakyReLU", "PReLU", "RReLU", "ELU", "CELU", "GELU", "SiLU", "Mish",
        "Sigmoid", "Tanh", "Hardtanh", "Hardswish", "Hardsigmoid", "Softplus", "Softsign",
        "Tanhshrink", "Threshold", "GLU", "LogSigmoid", "Softmax", "LogSoftmax", "Softmin",
    }
)
_FUNCTIONAL_KINDS = {
    "dropout": LayerType("dropout"),
    "dropout1d": LayerType("channel_dropout", 1),
    "dropout2d": LayerType("channel_dropout", 2),
    "dropout3d": LayerType("channel_dropout", 3),
    "alpha_dropout": LayerType("alpha_dropout"),
    "feature_alpha_dropout": LayerType("alpha_dropout"),
    "linear": LayerType("linear"),
    "embedding": LayerType("embedding"),
    "selu": LayerType("selu"),
    "layer_norm": LayerType("norm"),
    "group_norm": LayerType("norm"),
    "batch_norm": LayerType("batchnorm"),
}
_FUNCTIONAL_ACTIVATIONS = frozenset(
    {
        "relu", "relu_", "relu6", "leaky_relu", "elu", "celu", "gelu", "silu", "mish",
        "sigmoid", "tanh", "hardtanh", "hardswish", "softplus", "softmax", "log_softmax", "glu",
    }
)


def module_layer(qualname: str) -> Optional[LayerType]:
    """The layer type of a torch.nn class, or None for anything else."""
    name = canonical(qualname)
    if not name.startswith("torch.nn.") or name.count(".") != 2:
        return None
    short = name.rsplit(".", 1)[1]
    if short in _MODULE_KINDS:
        return LayerType(_MODULE_KINDS[short])
    if short in _ACTIVATIONS:
        return LayerType("activation")
    dims = _DIMS.search(short)
    if short.startswith("Dropout") and dims:
        return LayerType("channel_dropout", int(dims.group(1)))
    if short.startswith(("BatchNorm", "LazyBatchNorm", "SyncBatchNorm")):
        return LayerType("batchnorm", int(dims.group(1)) if dims else None)
    if short.startswith(("InstanceNorm", "LazyInstanceNorm")):
        return LayerType("norm", int(dims.group(1)) if dims else None)
    if short.startswith(("Conv", "LazyConv")) and dims:
        return LayerType("conv", int(dims.group(1)))
    if "Pool" in short:
        return LayerType("pool", int(dims.group(1)) if dims else None)
    if short[:1].isupper():
        return LayerType("torch")
    return None


def function_layer(qualname: str) -> Optional[LayerType]:
    """The layer type of a torch function (``F.relu``, ``torch.selu``...), or None."""
    name = canonical(qualname)
    for prefix in ("torch.nn.functional.", "torch."):
        if name.startswith(prefix):
            short = name[len(prefix) :]
            if "." in short:
                return None
            if short in _FUNCTIONAL_KINDS:
                return _FUNCTIONAL_KINDS[short]
            if short in _FUNCTIONAL_ACTIVATIONS:
                return LayerType("activation")
            return None
    return None


# Tensor methods and torch functions that only reshape or convert: for placement they
# are not layers, so "the first layer applied to the input" looks through them.
RESHAPES = frozenset(
    {
        "view", "reshape", "flatten", "permute", "transpose", "contiguous", "unsqueeze",
        "squeeze", "to", "float", "half", "double", "bfloat16", "type", "type_as", "clone",
        "detach", "view_as", "reshape_as", "expand", "expand_as", "movedim", "swapaxes", "mT", "T",
    }
)
RANK_CHANGING = frozenset(
    {"view", "reshape", "flatten", "unsqueeze", "squeeze", "view_as", "reshape_as", "expand", "expand_as"}
)


# Layer factories that take the dimension as an argument, as MONAI's:
# `Dropout[Dropout.DROPOUT, 2]` is `nn.Dropout2d` (and dimension 1 plain `nn.Dropout`),
# `Conv[Conv.CONV, 3]` `nn.Conv3d`, `Norm[Norm.BATCH, 2]` `nn.BatchNorm2d`;
# `get_dropout_layer(name, dropout_dim=2)` looks up `Dropout[name, 2]`.
_FACTORY_PACKAGE = "monai.networks.layers"
_FACTORY_KINDS = {
    ("Dropout", "DROPOUT"): "dropout",
    ("Conv", "CONV"): "conv",
    ("Conv", "CONVTRANS"): "conv",
    ("Norm", "BATCH"): "batchnorm",
    ("Norm", "INSTANCE"): "norm",
    ("Pool", "MAX"): "pool",
    ("Pool", "AVG"): "pool",
    ("Pool", "ADAPTIVEMAX"): "pool",
    ("Pool", "ADAPTIVEAVG"): "pool",
}
# Factory functions: their table, the entry (None: named by the `name` argument), the
# keyword that gives the dimension, and its default.
FACTORY_FUNCTIONS = {
    "get_dropout_layer": ("Dropout", None, "dropout_dim", 1),
    "get_norm_layer": ("Norm", None, "spatial_dims", 1),
    "get_pool_layer": ("Pool", None, "spatial_dims", 1),
}


def is_layer_factory(qualname: Optional[str]) -> bool:
    """Whether a qualified name is a layer factory of ``FACTORY_FUNCTIONS`` or a table
    such as ``Dropout`` of ``Dropout[Dropout.DROPOUT, 2]``."""
    if qualname is None or not qualname.startswith(_FACTORY_PACKAGE + "."):
        return False
    short = qualname.rsplit(".", 1)[1]
    return short in FACTORY_FUNCTIONS or any(short == table for table, _ in _FACTORY_KINDS)


def factory_kind(table: str, kind: Optional[str]) -> Optional[str]:
    """The kind of layer (``dropout``, ``conv``, ``batchnorm``, ``norm``, ``pool``) an
    entry of a factory table gives, whatever its dimension; None when placement does
    not know it."""
    return None if kind is None else _FACTORY_KINDS.get((table, kind.upper()))


def factory_layer(table: str, kind: Optional[str], dims: int) -> Optional[LayerType]:
    """The layer a factory gives for an entry and a dimension (1 to 3): None when it is
    not one placement knows (``kind`` None: the name is chosen at run time)."""
    if not 1 <= dims <= 3:
        return None
    found = factory_kind(table, kind)
    if found is None:
        return None
    if found == "dropout":
        return LayerType("dropout") if dims == 1 else LayerType("channel_dropout", dims)
    return LayerType(found, dims)
