from __future__ import annotations

import libcst as cst
import pytest

from dropout_lint.analysis import torch_api
from dropout_lint.analysis.structure import ModuleFacts


def _qualify(source: str, expr: str) -> str | None:
    table = ModuleFacts(cst.parse_module(source)).imports  # the table the rules use
    return table.qualify(cst.parse_expression(expr), torch_api.KNOWN_NAMES)


@pytest.mark.parametrize(
    ("source", "expr", "expected"),
    [
        ("import torch\n", "torch.nn.Dropout", "torch.nn.Dropout"),
        ("import torch.nn as nn\n", "nn.Dropout", "torch.nn.Dropout"),
        ("from torch import nn\n", "nn.functional.dropout", "torch.nn.functional.dropout"),
        ("from torch.nn import Dropout as D\n", "D", "torch.nn.Dropout"),
        ("import torch.nn.functional as F\n", "F.dropout2d", "torch.nn.functional.dropout2d"),
        ("from torch.nn.functional import dropout\n", "dropout", "torch.nn.functional.dropout"),
        ("from torch.nn import functional as nnf\n", "nnf.alpha_dropout", "torch.nn.functional.alpha_dropout"),
        ("import torch.nn.functional\n", "torch.nn.functional.dropout", "torch.nn.functional.dropout"),
        ("from torch.nn import *\n", "Dropout", "torch.nn.Dropout"),
        ("from torch.nn.functional import *\n", "dropout", "torch.nn.functional.dropout"),
        ("from torch import *\n", "nn.Dropout", "torch.nn.Dropout"),
        ("def f():\n    import torch.nn.functional as F\n", "F.dropout", "torch.nn.functional.dropout"),
        ("from .layers import Block\n", "Block", ".layers.Block"),
        ("from . import layers\n", "layers.Block", ".layers.Block"),
    ],
)
def test_qualify(source: str, expr: str, expected: str) -> None:
    assert _qualify(source, expr) == expected


@pytest.mark.parametrize(
    ("source", "expr"),
    [
        ("import torch\n", "nn.Dropout"),  # nn is not bound
        ("from torch.nn import *\n", "Linear"),  # star imports only give names we care about
        ("", "F.dropout"),
        ("import torch\n", "x().dropout"),
    ],
)
def test_unresolved(source: str, expr: str) -> None:
    assert _qualify(source, expr) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("torch.nn.modules.dropout.Dropout", "torch.nn.Dropout"),
        ("torch.nn.modules.rnn.LSTM", "torch.nn.LSTM"),
        ("flash_attn.flash_attn_interface.flash_attn_func", "flash_attn.flash_attn_func"),
        ("torch.nn.Dropout", "torch.nn.Dropout"),
    ],
)
def test_canonical(name: str, expected: str) -> None:
    assert torch_api.canonical(name) == expected


def test_lookup_knows_the_catalogue() -> None:
    api = torch_api.lookup("torch.nn.functional.alpha_dropout")
    assert api is not None and api.training_default is False
    assert torch_api.lookup("torch.nn.functional.relu") is None
    assert torch_api.lookup(None) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("torch.nn.Module", True),
        ("torch.nn.Sequential", True),
        ("torch.nn.modules.module.Module", True),
        ("pytorch_lightning.LightningModule", True),
        ("transformers.PreTrainedModel", True),
        ("torch.nn.Parameter", False),
        ("torch.autograd.Function", False),
        ("torch.nn.functional.dropout", False),
    ],
)
def test_is_module_base(name: str, expected: bool) -> None:
    assert torch_api.is_module_base(name) is expected
