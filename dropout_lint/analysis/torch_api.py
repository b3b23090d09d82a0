"""What dropout-lint knows about the dropout APIs of torch and friends.

Each entry says where an API takes its drop probability and its training flag, by
keyword and by position, so that checks read arguments the way the callee does.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Optional


class ApiKind(enum.Enum):
    MODULE = "module"  # nn.Dropout and its siblings: constructed, then called
    FUNCTIONAL = "functional"  # F.dropout and siblings: a `training` flag with a default
    ATEN = "aten"  # torch.dropout and siblings: `train` is required
    ATTENTION = "attention"  # attention kernels taking a dropout probability
    COMPOSITE = "composite"  # modules with a dropout inside (LSTM, MultiheadAttention, ...)


@dataclass(frozen=True)
class Param:
    keyword: str
    position: Optional[int]


@dataclass(frozen=True)
class DropoutApi:
    qualname: str
    kind: ApiKind
    rate: Param
    training: Optional[Param] = None
    training_default: Optional[bool] = None
    inplace: Optional[Param] = None
    always_inplace: bool = False

    @property
    def short(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


_P0 = Param("p", 0)
_INPLACE1 = Param("inplace", 1)
_P1 = Param("p", 1)
_TRAINING2 = Param("training", 2)
_INPLACE3 = Param("inplace", 3)
_TRAIN2 = Param("train", 2)


def _module(name: str) -> DropoutApi:
    return DropoutApi(f"torch.nn.{name}", ApiKind.MODULE, _P0, inplace=_INPLACE1)


def _functional(name: str, default: bool) -> DropoutApi:
    return DropoutApi(
        f"torch.nn.functional.{name}",
        ApiKind.FUNCTIONAL,
        _P1,
        training=_TRAINING2,
        training_default=default,
        inplace=_INPLACE3,
    )


def _aten(name: str, inplace: bool = False) -> DropoutApi:
    return DropoutApi(
        f"torch.{name}", ApiKind.ATEN, _P1, training=_TRAIN2, always_inplace=inplace
    )


def _attention(qualname: str, keyword: str, position: int) -> DropoutApi:
    return DropoutApi(qualname, ApiKind.ATTENTION, Param(keyword, position))


def _composite(name: str, position: Optional[int]) -> DropoutApi:
    return DropoutApi(f"torch.nn.{name}", ApiKind.COMPOSITE, Param("dropout", position))


# Each dropout module class and the function that does its work.
FUNCTIONAL_OF = {
    "Dropout": "dropout",
    "Dropout1d": "dropout1d",
    "Dropout2d": "dropout2d",
    "Dropout3d": "dropout3d",
    "AlphaDropout": "alpha_dropout",
    "FeatureAlphaDropout": "feature_alpha_dropout",
}
DROPOUT_MODULES = tuple(FUNCTIONAL_OF)

_FLASH = {
    "flash_attn_func": 3,
    "flash_attn_qkvpacked_func": 1,
    "flash_attn_kvpacked_func": 2,
    "flash_attn_varlen_func": 7,
    "flash_attn_varlen_qkvpacked_func": 3,
    "flash_attn_varlen_kvpacked_func": 6,
}

_APIS: tuple[DropoutApi, ...] = (
    *(_module(name) for name in DROPOUT_MODULES),
    _functional("dropout", True),
    _functional("dropout1d", True),
    _functional("dropout2d", True),
    _functional("dropout3d", True),
    _functional("alpha_dropout", False),
    _functional("feature_alpha_dropout", False),
    _aten("dropout"),
    _aten("feature_dropout"),
    _aten("alpha_dropout"),
    _aten("feature_alpha_dropout"),
    _aten("native_dropout"),
    _aten("dropout_", inplace=True),
    _aten("feature_dropout_", inplace=True),
    _aten("alpha_dropout_", inplace=True),
    _aten("feature_alpha_dropout_", inplace=True),
    _attention("torch.nn.functional.scaled_dot_product_attention", "dropout_p", 4),
    *(_attention(f"flash_attn.{name}", "dropout_p", pos) for name, pos in _FLASH.items()),
    _attention("xformers.ops.memory_efficient_attention", "p", 4),
    _composite("MultiheadAttention", 2),
    _composite("Transformer", 5),
    _composite("TransformerEncoderLayer", 3),
    _composite("TransformerDecoderLayer", 3),
    _composite("LSTM", None),
    _composite("GRU", None),
    _composite("RNN", None),
)

APIS: dict[str, DropoutApi] = {api.qualname: api for api in _APIS}

# Other spellings of the same objects, mapped to the names above.
_ALIASES = {
    "flash_attn.flash_attn_interface.": "flash_attn.",
    "torch._C._nn.": "torch.nn.functional.",
    "torch._C._VariableFunctions.": "torch.",
}
# ``torch.nn.modules.dropout.Dropout`` and ``torch.nn.modules.Dropout`` are ``torch.nn.Dropout``.
_NN_MODULES = re.compile(r"^torch\.nn\.modules\.(?:\w+\.)?(?P<name>\w+)$")

# Every spelling that ``from X import *`` can make appear unqualified.
KNOWN_NAMES: frozenset[str] = frozenset(APIS) | frozenset(
    alias + api.qualname[len(canonical_prefix) :]
    for alias, canonical_prefix in _ALIASES.items()
    for api in _APIS
    if api.qualname.startswith(canonical_prefix)
)

# The last part of every API's name. An attribute chain keeps it whatever the imports
# say (``F.dropout``), and a bare name is either imported or spelt the same: a call
# whose callee ends in anything else is no dropout API, whatever it resolves to.
LAST_NAMES: frozenset[str] = frozenset(name.rsplit(".", 1)[-1] for name in APIS)


def canonical(qualname: str) -> str:
    found = _NN_MODULES.match(qualname)
    if found is not None:
        return f"torch.nn.{found.group('name')}"
    for alias, target in _ALIASES.items():
        if qualname.startswith(alias):
            return target + qualname[len(alias) :]
    return qualname


def lookup(qualname: Optional[str]) -> Optional[DropoutApi]:
    if qualname is None:
        return None
    return APIS.get(canonical(qualname))


# Classes whose subclasses are torch modules, besides project classes that derive from them.
MODULE_BASES: frozenset[str] = frozenset(
    {
        "torch.nn.Module",
        "lightning.LightningModule",
        "lightning.pytorch.LightningModule",
        "lightning.pytorch.core.LightningModule",
        "pytorch_lightning.LightningModule",
        "pytorch_lightning.core.LightningModule",
        "transformers.PreTrainedModel",
        "transformers.modeling_utils.PreTrainedModel",
    }
)


_NOT_MODULES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})


def is_module_base(qualname: str) -> bool:
    """Whether a class named this way is a torch module (any ``torch.nn`` class counts)."""
    name = canonical(qualname)
    if name in MODULE_BASES:
        return True
    if name.startswith("torch.nn.") and name.count(".") == 2:
        last = name.rsplit(".", 1)[-1]
        return last[:1].isupper() and last not in _NOT_MODULES
    return False
