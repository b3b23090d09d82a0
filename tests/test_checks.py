"""Each check on the code it must report and on the correct code it must leave alone.

Every case selects only the rule under test, so a case shows exactly what that rule does.
"""

from __future__ import annotations

import pytest
from helpers import findings

HEADER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F
"""


def _case(rule: str, body: str, lines: list[int]) -> tuple[str, str, list[tuple[int, str]]]:
    # Lines are counted within ``body``; the header's lines are added here.
    offset = HEADER.count("\n")
    return rule, HEADER + body, [(offset + line, rule) for line in lines]


def _module(forward_body: str, init_body: str = "pass") -> str:
    return f"""\
class M(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p
        {init_body}

    def forward(self, x):
        {forward_body}
        return x
"""


def _override(
    body: str, params: str = "mode=True", encoder: str = "nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.1))", freeze: str = "pass"
) -> str:
    """A module with a mode-dependent encoder and a head, whose ``train`` runs ``body``."""
    return f"""\
class Model(nn.Module):
    def __init__(self, frozen=False):
        super().__init__()
        self.encoder = {encoder}
        self.head = nn.Linear(8, 2)
        self.frozen = frozen
        {freeze}

    def train(self, {params}):
        {body}

    def _switch(self, mode):
        self.encoder.train(mode)

    def forward(self, x):
        return self.head(self.encoder(x))
"""


FLAGGED = {
    # DL201 invalid-dropout-rate
    "dl201-one": _case("DL201", "d = nn.Dropout(p=1.0)\n", [1]),
    "dl201-above-one": _case("DL201", "d = nn.Dropout(1.5)\n", [1]),
    "dl201-negative": _case("DL201", "d = nn.Dropout(-0.2)\n", [1]),
    "dl201-string": _case("DL201", "d = nn.Dropout('0.1')\n", [1]),
    "dl201-none": _case("DL201", "d = nn.Dropout(None)\n", [1]),
    "dl201-true": _case("DL201", "layer = nn.TransformerEncoderLayer(64, 4, dropout=True)\n", [1]),
    "dl201-functional": _case("DL201", "y = F.dropout(x, 2.0, training=False)\n", [1]),
    "dl201-training-as-p": _case("DL201", _module("x = F.dropout(x, self.training)"), [8]),
    "dl201-sdpa": _case("DL201", "y = F.scaled_dot_product_attention(q, k, v, dropout_p=1.0)\n", [1]),
    "dl201-lstm": _case("DL201", "rnn = nn.LSTM(8, 8, num_layers=2, dropout=1.0)\n", [1]),
    "dl201-aten": _case("DL201", "y = torch.dropout(x, 1.0, True)\n", [1]),
    "dl201-module-alias": _case("DL201", "from torch.nn import Dropout as D\nd = D(1)\n", [2]),
    # A dropout module where its rate goes (timm-style `attn_drop` read as `dropout_p`).
    "dl201-module-as-rate": _case(
        "DL201",
        _module(
            "x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.attn_drop if self.training else 0.0)",
            "self.attn_drop = nn.Dropout(p)",
        ),
        [8],
    ),
    "dl201-module-as-functional-rate": _case(
        "DL201", _module("x = F.dropout(x, self.drop, self.training)", "self.drop = nn.Dropout2d(p, inplace=True)"), [8]
    ),
    # DL202 high-dropout-rate
    "dl202-literal": _case("DL202", "d = nn.Dropout(0.8)\n", [1]),
    "dl202-keyword": _case("DL202", "d = nn.Dropout(p=0.51)\n", [1]),
    "dl202-init-default": _case("DL202", _module("pass", "self.d = nn.Dropout(drop)").replace("p=0.1", "p=0.1, drop=0.9"), [5]),
    "dl202-self-attr": _case("DL202", _module("x = F.dropout(x, self.p, self.training)").replace("p=0.1", "p=0.7"), [8]),
    "dl202-module-constant": _case("DL202", "RATE = 0.6\nd = nn.Dropout2d(RATE)\n", [2]),
    "dl202-transformer-layer": _case("DL202", "layer = nn.TransformerEncoderLayer(512, 8, 2048, 0.7)\n", [1]),
    "dl202-mha-keyword": _case("DL202", "mha = nn.MultiheadAttention(64, 8, dropout=0.9)\n", [1]),
    # DL203 keep-prob-as-rate
    "dl203-name": _case("DL203", "keep_prob = 0.9\nd = nn.Dropout(keep_prob)\n", [2]),
    "dl203-attribute": _case("DL203", "d = nn.Dropout(p=args.keep_prob)\n", [1]),
    "dl203-tf-style": _case("DL203", "y = F.dropout(x, config.hidden_dropout_keep_prob, training=t)\n", [1]),
    "dl203-keep-rate": _case("DL203", "d = nn.Dropout(self.keep_rate)\n", [1]),
    # DL304 mode-method-not-called
    "dl304-eval": _case("DL304", "model.eval\n", [1]),
    "dl304-train": _case("DL304", "model.train\n", [1]),
    "dl304-attr-chain": _case("DL304", "def f(trainer):\n    trainer.model.eval\n", [2]),
    "dl304-self": _case("DL304", "class T:\n    def run(self):\n        self.net.eval\n", [3]),
    # DL305 training-flag-assigned
    "dl305-false": _case("DL305", "model.training = False\nout = model(x)\n", [1]),
    "dl305-true": _case("DL305", "def f(model, x):\n    model.training = True\n    return model.forward(x)\n", [2]),
    "dl305-self-attribute": _case(
        "DL305", "class T:\n    def fit(self, x):\n        self.net.training = True\n        return self.net(x)\n", [3]
    ),
    "dl305-restore-flag": _case("DL305", "def f(model):\n    was = model.training\n    model.eval()\n    model.training = was\n", [4]),
    "dl305-module-init": _case("DL305", _module("pass", "self.drop = nn.Dropout(p)\n        self.training = False"), [6]),
    # DL204: a helper of the same file that sets every dropout's rate, called in the loop.
    "dl204-rate-setter-in-loop": _case(
        "DL204",
        "def set_dropout(model, p):\n    for m in model.modules():\n        if isinstance(m, nn.Dropout):\n"
        "            m.p = p\n\n\ndef fit(model, loader, opt):\n    for epoch in range(10):\n"
        "        set_dropout(model, 0.1 * epoch)\n        for x, y in loader:\n"
        "            F.mse_loss(model(x), y).backward()\n            opt.step()\n",
        [9],
    ),
    "dl305-child-class-in-training": _case(
        "DL305",
        "class Inner(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.drop = nn.Dropout(0.1)\n\n\n"
        "class Outer(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.inner = Inner()\n"
        "        self.training = False\n",
        [11],
    ),
    "dl305-chained": _case("DL305", "model.training = model.encoder.training = False\nmodel.cuda()\n", [1, 1]),
    # DL306 train-override-skips-submodules
    "dl306-early-return": _case("DL306", _override("self.training = mode\n        if self.frozen:\n            self.head.train(mode)\n            return self\n        self.encoder.train(mode)\n        self.head.train(mode)\n        return self"), [9]),
    "dl306-some-children": _case("DL306", _override("self.training = mode\n        self.head.train(mode)\n        return self"), [9]),
    # segmentation-models-pytorch: the frozen encoder is skipped, only its norm layers were put in eval
    "dl306-loop-skips-by-name": _case(
        "DL306",
        _override(
            "self.training = mode\n        for name, module in self.named_children():\n"
            "            if self.frozen and name == 'encoder':\n                continue\n            module.train(mode)\n        return self"
        ),
        [9],
    ),
    "dl306-super-only-in-training": _case("DL306", _override("if mode:\n            super().train(mode)\n        return self"), [9]),
    "dl306-forced-on": _case("DL306", _override("self.training = mode\n        self.encoder.train(True)\n        self.head.train(mode)"), [9]),
    "dl306-flags-only": _case("DL306", _override("self.training = mode\n        return self", encoder="nn.Dropout(0.1)"), [9]),
    # torch_geometric's GLEM: `eval()` calls `train(False)`, which this signature rejects
    "dl306-given-parts": _case(
        "DL306",
        """\
from transformers import PreTrainedModel

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.1)

class Multimodal(nn.Module):
    def __init__(self, encoders: dict[str, Encoder], language_model: PreTrainedModel, hook=None):
        super().__init__()
        self.encoders = encoders
        self.language_model = language_model
        self.hook = hook

    def train(self, encoders_mode=None, llm_mode=None):
        super().train(True)
        if llm_mode is None:
            return self
        for p in self.language_model.parameters():
            p.requires_grad_(llm_mode)
        return self
""",
        [15],
    ),
    "dl306-optional-given-part": _case(
        "DL306",
        """\
from typing import Optional

class Wrapper(nn.Module):
    def __init__(self, backbone: Optional[nn.Module] = None, head: nn.Module | None = None):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def train(self, mode=True):
        self.training = mode
        self.head.train(mode)
        return self
""",
        [9],
    ),
    "dl306-no-mode-parameter": _case("DL306", _override("self.fit(loader, optimizer)", params="loader, optimizer"), [9]),
    # DL401 functional-dropout-always-on
    "dl401-keyword-p": _case("DL401", _module("x = F.dropout(x, p=self.p)"), [8]),
    "dl401-positional-p": _case("DL401", _module("x = F.dropout(x, 0.2)"), [8]),
    "dl401-default-p": _case("DL401", _module("x = F.dropout(x)"), [8]),
    "dl401-2d-via-nn": _case("DL401", _module("x = nn.functional.dropout2d(x, self.p)"), [8]),
    "dl401-3d-full-name": _case("DL401", _module("x = torch.nn.functional.dropout3d(x, self.p)"), [8]),
    "dl401-1d-import-from": _case("DL401", "from torch.nn.functional import dropout1d as d1\n" + _module("x = d1(x, self.p)"), [9]),
    "dl401-other-method": _case(
        "DL401",
        "class A(nn.Module):\n    def _attn(self, w):\n        return F.dropout(w, 0.1)\n",
        [3],
    ),
    "dl401-nested-function": _case(
        "DL401",
        "class A(nn.Module):\n    def forward(self, x):\n        def inner(y):\n            return F.dropout(y, 0.1)\n        return inner(x)\n",
        [4],
    ),
    "dl401-lightning": _case(
        "DL401",
        "import pytorch_lightning as pl\nclass A(pl.LightningModule):\n    def forward(self, x):\n        return F.dropout(x, 0.1)\n",
        [4],
    ),
    "dl401-project-subclass": _case(
        "DL401",
        "class Base(nn.Module):\n    pass\nclass A(Base):\n    def forward(self, x):\n        return F.dropout(x, 0.1)\n",
        [5],
    ),
    "dl401-unknown-base-with-forward": _case(
        "DL401",
        "from .layers import Base\nclass A(Base):\n    def forward(self, x):\n        return F.dropout(x, 0.1)\n",
        [4],
    ),
    "dl401-guard-elsewhere": _case(
        "DL401",
        _module("x = F.dropout(x, self.p)\n        if self.training:\n            x = x * 2"),
        [8],
    ),
    # DL402 dropout-module-in-forward
    "dl402-inline": _case("DL402", _module("x = nn.Dropout(p=0.5)(x)"), [8]),
    "dl402-local": _case("DL402", _module("d = nn.AlphaDropout(self.p)\n        x = d(x)"), [8]),
    "dl402-in-sequential": _case("DL402", _module("x = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.1))(x)"), [8]),
    # DL404 dropout-forced-on
    "dl404-keyword": _case("DL404", "y = F.dropout(x, 0.1, training=True)\n", [1]),
    "dl404-positional": _case("DL404", "y = F.dropout2d(x, 0.1, True)\n", [1]),
    "dl404-aten": _case("DL404", "y = torch.dropout(x, 0.1, True)\n", [1]),
    # DL405 dropout-never-active
    "dl405-training-false": _case("DL405", _module("x = F.dropout(x, self.p, training=False)"), [8]),
    "dl405-p-zero": _case("DL405", _module("x = F.dropout(x, 0.0, self.training)"), [8]),
    "dl405-p-zero-no-training": _case("DL405", _module("x = F.dropout(x, p=0)"), [8]),
    "dl405-alpha-default": _case("DL405", _module("x = F.alpha_dropout(x, self.p)"), [8]),
    "dl405-feature-alpha-default": _case("DL405", _module("x = F.feature_alpha_dropout(x, p=self.p)"), [8]),
    "dl405-aten-false": _case("DL405", "y = torch.feature_dropout(x, 0.5, False)\n", [1]),
    # DL406 attention-dropout-always-on
    "dl406-self-attr": _case("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.p)"), [8]),
    "dl406-literal": _case("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=0.1)"), [8]),
    "dl406-positional": _case("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, None, self.p)"), [8]),
    "dl406-via-local": _case(
        "DL406", _module("p = self.p\n        x = F.scaled_dot_product_attention(x, x, x, dropout_p=p)"), [9]
    ),
    "dl406-config": _case(
        "DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.config.attention_dropout)"), [8]
    ),
    "dl406-from-import": _case(
        "DL406",
        "from torch.nn.functional import scaled_dot_product_attention as sdpa\n" + _module("x = sdpa(x, x, x, dropout_p=self.p)"),
        [9],
    ),
    "dl406-flash": _case(
        "DL406", "from flash_attn import flash_attn_func\n" + _module("x = flash_attn_func(x, x, x, dropout_p=self.p)"), [9]
    ),
    # DL409 dropout-result-discarded
    "dl409-functional": _case("DL409", _module("F.dropout(x, self.p, self.training)"), [8]),
    "dl409-module-attr": _case("DL409", _module("self.drop(x)", "self.drop = nn.Dropout(p)"), [8]),
    "dl409-aten": _case("DL409", _module("torch.dropout(x, self.p, self.training)"), [8]),
    "dl409-inplace-false": _case("DL409", _module("F.dropout(x, self.p, self.training, inplace=False)"), [8]),
    # DL410 mode-read-at-construction (torchtune's export MultiHeadAttention builds its SDPA so)
    "dl410-rate": _case("DL410", _module("pass", "self.sdpa = SDPA(p if self.training else 0.0)"), [5]),
    "dl410-keyword-rate": _case("DL410", _module("pass", "self.sdpa = SDPA(attn_dropout=self.p if self.training else 0.0)"), [5]),
    "dl410-branch": _case(
        "DL410", _module("pass", "if self.training and p > 0:\n            self.drop = nn.Dropout(p)"), [5]
    ),
    "dl410-negated": _case(
        "DL410",
        _module("pass", "self.drop = nn.Identity() if not self.training else nn.Dropout(p)"),
        [5],
    ),
    "dl410-flag-passed": _case("DL410", _module("pass", "self.block = Block(p, training=self.training)"), [5]),
    "dl410-flag-stored": _case("DL410", _module("pass", "self.use_dropout = self.training"), [5]),
    "dl410-helper": _case(
        "DL410",
        _module("pass", "self._build()")
        + "\n    def _build(self):\n        self.drop = nn.Dropout(self.p) if self.training else nn.Identity()\n",
        [12],
    ),
}

SILENT = {
    # DL306: overrides that switch every child, or whose skipped part is frozen in eval mode
    "o-super": ("DL306", _override("super().train(mode)\n        return self")),
    # A `train(x_pos, x_neg)` of a model with no part that has a mode (forward-forward
    # training in pytorch/examples): nothing is left in training mode.
    # Parts given to `__init__` that are not annotated as models (a callback, a size).
    "o-given-non-models": (
        "DL306",
        """\
from typing import Callable

class Model(nn.Module):
    def __init__(self, hook: Callable, width: int):
        super().__init__()
        self.hook = hook
        self.width = width
        self.head = nn.Linear(width, 2)

    def train(self, mode=True):
        self.training = mode
        self.head.train(mode)
        return self
""",
    ),
    # A union that admits a name or a path is no model (ultralytics' `model: str | Path | Model`).
    "o-given-name-or-model": (
        "DL306",
        """\
from pathlib import Path
from typing import Union

class Model(nn.Module):
    def __init__(self, model: str | Path | "Model" = "yolo.pt", backbone: Union[str, nn.Module] = "r50"):
        super().__init__()
        self.model_name = model
        self.backbone = backbone

    def train(self, trainer=None, **kwargs):
        return trainer
""",
    ),
    "o-no-mode-parameter-no-mode-part": (
        "DL306",
        """\
class Layer(nn.Linear):
    def train(self, x_pos, x_neg):
        return self.forward(x_pos), self.forward(x_neg)

class Net(nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = []
        for a, b in zip(dims, dims[1:]):
            self.layers += [Layer(a, b)]
        self.act = nn.ReLU()

    def train(self, x_pos, x_neg):
        for layer in self.layers:
            x_pos, x_neg = layer.train(x_pos, x_neg)
""",
    ),
    "o-super-then-freeze-bn": ("DL306", _override("super().train(mode)\n        self.encoder.eval()\n        return self")),
    "o-base-call": ("DL306", _override("nn.Module.train(self, mode)\n        self.encoder.eval()")),
    "o-super-on-all-paths": ("DL306", _override("if self.frozen:\n            return super().train(False)\n        return super().train(mode)")),
    "o-super-with-flag": ("DL306", _override("super().train(self.frozen and mode)")),
    "o-children-loop": ("DL306", _override("self.training = mode\n        for module in self.children():\n            module.train(mode)\n        return self")),
    "o-loop-eval-or-train": (
        "DL306",
        _override(
            "self.training = mode\n        for name, module in self.named_children():\n            if name == 'encoder' and self.frozen:\n"
            "                module.eval()\n            else:\n                module.train(mode)\n        return self"
        ),
    ),
    "o-every-part-named": ("DL306", _override("self.training = mode\n        for part in (self.encoder, self.head):\n            part.train(mode)\n        return self")),
    "o-unknown-skip": (
        "DL306",
        _override(
            "self.training = mode\n        for module in self.modules():\n            if isinstance(module, nn.BatchNorm1d):\n"
            "                continue\n            module.train(mode)\n        return self"
        ),
    ),
    "o-frozen-elsewhere": ("DL306", _override("self.training = mode\n        self.head.train(mode)\n        return self", freeze="self.encoder.eval()")),
    "o-frozen-module": ("DL306", _override("return self", freeze="self.eval()")),
    "o-only-train-path-skips": ("DL306", _override("if not mode:\n            return super().train(False)\n        self.training = True\n        return self")),
    "o-helper-switches": ("DL306", _override("self.training = mode\n        self._switch(mode)\n        return self")),
    "o-star-args": ("DL306", _override("super().train(*args)", params="*args")),
    "o-not-a-module": ("DL306", "class Trainer:\n    def train(self):\n        self.model.train()\n"),
    # DL201 / DL202 / DL203: fine or unknown rates
    "rate-half": ("DL2", "d = nn.Dropout(0.5)\n"),
    "rate-zero-placeholder": ("DL2", "d = nn.Dropout(p=0.0)\n"),
    "rate-from-config": ("DL2", "d = nn.Dropout(config.hidden_dropout_prob)\n"),
    "rate-from-args": ("DL2", "d = nn.Dropout(args.dropout)\n"),
    "rate-none-default-guarded": ("DL2", "def f(drop=None):\n    return nn.Dropout(drop) if drop else nn.Identity()\n"),
    "rate-one-minus-keep": ("DL2", "def f(keep_prob=0.9):\n    return nn.Dropout(1 - keep_prob)\n"),
    "rate-reassigned-param": ("DL2", "def f(drop=0.9):\n    drop = drop / 10\n    return nn.Dropout(drop)\n"),
    "rate-unrelated-call": ("DL2", "y = torch.nn.functional.relu(x, 0.9)\nz = other.Dropout(0.9)\n"),
    "rate-shadowed-module": ("DL2", "class Dropout:\n    pass\nd = Dropout(0.9)\n"),
    "rate-no-p": ("DL2", "d = nn.Dropout()\nl = nn.LSTM(4, 4)\n"),
    "rate-star-args": ("DL2", "d = nn.Dropout(*args)\ne = F.dropout(x, **kw)\n"),
    "rate-lstm-positional-unknown": ("DL2", "l = nn.LSTM(4, 4, 2, True, False, 0.9)\n"),
    # torchgeo's DOFA: torch reads `False` as 0, no dropout.
    "rate-false-is-zero": ("DL2", "layer = nn.TransformerEncoderLayer(64, 4, dropout=False)\nd = nn.Dropout(p=False)\n"),
    "rate-false-default-is-zero": ("DL2", "def f(dropout=False):\n    return nn.Dropout(dropout), nn.LSTM(4, 4, dropout=dropout)\n"),
    "rate-module-p": (
        "DL2",
        _module(
            "x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.attn_drop.p if self.training else 0.0)",
            "self.attn_drop = nn.Dropout(p)",
        ),
    ),
    # `self.drop` is a number in some configurations: not provably a module.
    "rate-module-or-number": (
        "DL2",
        _module("x = F.dropout(x, self.drop, self.training)", "self.drop = nn.Dropout(p)\n        self.drop = 0.1"),
    ),
    "rate-unknown-attribute": ("DL2", _module("x = F.dropout(x, self.drop, self.training)", "self.drop = make(p)")),
    # DL304 / DL305
    "mode-called": ("DL3", "model.eval()\nmodel.train()\nmodel.train(False)\n"),
    "mode-method-as-value": ("DL3", "cb = model.eval\nhooks.append(model.train)\nf = model.eval if a else model.train\n"),
    "mode-other-attr": ("DL3", "model.evaluate\nmodel.training\n"),
    "flag-train-override": (
        "DL3",
        "class M(nn.Module):\n    def train(self, mode=True):\n        self.training = mode\n        return self\n",
    ),
    "flag-eval-override": (
        "DL3",
        "class M(nn.Module):\n    def eval(self):\n        self.training = False\n        return self\n",
    ),
    "flag-plain-object": ("DL3", "class State:\n    def __init__(self):\n        self.training = True\n"),
    "flag-module-dynamic-self": ("DL3", "class M(nn.Module):\n    def set(self, flag):\n        self.training = flag\n"),
    # DL305 only when a submodule is left in training mode (fairseq's benchmarking wrappers).
    "rate-setter-before-training": (
        "DL2",
        "def set_dropout(model, p):\n    for m in model.modules():\n        m.p = p\n\n\n"
        "def fit(model, loader, opt):\n    set_dropout(model, 0.1)\n    for x, y in loader:\n"
        "        F.mse_loss(model(x), y).backward()\n        opt.step()\n",
    ),
    "flag-no-children": ("DL3", _module("pass", "self.training = False")),
    "flag-children-switched-by-helper": (
        "DL3",
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.setup()\n"
        "        self.training = False\n\n    def setup(self):\n        self.drop = nn.Dropout(0.1)\n"
        "        self.drop.eval()\n",
    ),
    "flag-children-applied": (
        "DL3",
        "class M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.drop = nn.Dropout(0.1)\n"
        "        for m in self.children():\n            m.eval()\n        self.training = False\n",
    ),
    "flag-children-loaded": (
        "DL3",
        "class M(nn.Module):\n    def __init__(self, path):\n        super().__init__()\n"
        "        self.model = load(path)\n        self.training = False\n",
    ),
    "flag-child-class-in-eval": (
        "DL3",
        "class Inner(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.drop = nn.Dropout(0.1)\n"
        "        self.eval()\n\n\nclass Outer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.inner = Inner()\n        self.training = False\n",
    ),
    "flag-copy": ("DL3", "new.training = old.training\n"),
    # Lightning's Trainer: a plain object whose `training` is a property of its own.
    "flag-not-a-module": (
        "DL3",
        "def on_run_start(self):\n    trainer = self.trainer\n    trainer.validating = True\n"
        "    self.val_loop.setup_data()\n    trainer.training = True\n",
    ),
    "flag-self-attribute-not-a-module": ("DL3", "class Loop:\n    def run(self):\n        self.trainer.training = False\n"),
    "flag-modules-loop": ("DL3", "for m in model.modules():\n    m.training = False\n"),
    "flag-restore-loop": ("DL3", "for m, t in saved:\n    m.training = t\n"),
    "flag-read": ("DL3", "was = model.training\nif model.training:\n    pass\n"),
    # DL401: the gating forms of the spec, and places that are not modules
    "f-keyword": ("DL401", _module("x = F.dropout(x, self.p, training=self.training)")),
    "f-positional": ("DL401", _module("x = F.dropout(x, self.p, self.training)")),
    "f-flag-variable": ("DL401", _module("t = self.training\n        x = F.dropout(x, self.p, t)")),
    "f-flag-expression": ("DL401", _module("x = F.dropout(x, self.p, self.training and self.mc)")),
    "f-flag-kwargs": ("DL401", _module("x = F.dropout(x, self.p, **self.kw)")),
    "f-flag-star": ("DL401", _module("x = F.dropout(*self.args)")),
    "f-if-training": ("DL401", _module("if self.training:\n            x = F.dropout(x, self.p)")),
    "f-if-not-training-else": ("DL401", _module("if not self.training:\n            pass\n        else:\n            x = F.dropout(x, self.p)")),
    "f-ifexp": ("DL401", _module("x = F.dropout(x, self.p) if self.training else x")),
    "f-and": ("DL401", _module("x = self.training and F.dropout(x, self.p)")),
    "f-early-return": ("DL401", _module("if not self.training:\n            return x\n        x = F.dropout(x, self.p)")),
    "f-p-zero": ("DL401", _module("x = F.dropout(x, 0.0)")),
    "f-alpha": ("DL401", _module("x = F.alpha_dropout(x, self.p)")),
    "f-free-function": ("DL401", "def drop(x, p):\n    return F.dropout(x, p)\n"),
    "f-script": ("DL401", "x = F.dropout(torch.ones(3), 0.5)\n"),
    "f-plain-class": ("DL401", "class Aug:\n    def __call__(self, x):\n        return F.dropout(x, 0.1)\n"),
    "f-autograd-function": (
        "DL401",
        "class Fn(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return F.dropout(x, 0.1)\n",
    ),
    "f-other-dropout-api": ("DL401", _module("x = mylib.dropout(x, 0.1)\n        x = self.dropout(x)")),
    # DL402
    "m-in-init": ("DL402", _module("x = self.d(x)", "self.d = nn.Dropout(p)")),
    "m-lazy-registered": ("DL402", _module("if self.d is None:\n            self.d = nn.Dropout(0.1)\n        x = self.d(x)")),
    "m-add-module": ("DL402", _module("self.add_module('d', nn.Dropout(0.1))")),
    "m-gated": ("DL402", _module("if self.training:\n            x = nn.Dropout(0.1)(x)")),
    "m-p-zero": ("DL402", _module("x = nn.Dropout(0.0)(x)")),
    "m-other-method": ("DL402", "class M(nn.Module):\n    def build(self):\n        return nn.Dropout(0.1)\n"),
    "m-factory": ("DL402", "def forward_head(dim):\n    return nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.1))\n"),
    # DL404 / DL405
    "fo-training-flag": ("DL404,DL405", _module("x = F.dropout(x, self.p, training=self.training)")),
    "fo-alpha-flag": ("DL404,DL405", _module("x = F.alpha_dropout(x, self.p, self.training)")),
    "fo-aten-flag": ("DL404,DL405", _module("x = torch.dropout(x, self.p, self.training)")),
    # DL406: gating forms and callers that decide
    "a-ifexp": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.p if self.training else 0.0)")),
    "a-not-training": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=0.0 if not self.training else self.p)")),
    "a-and": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.training and self.p)")),
    "a-local-gated": ("DL406", _module("p = self.p if self.training else 0.0\n        x = F.scaled_dot_product_attention(x, x, x, dropout_p=p)")),
    "a-local-branches": (
        "DL406",
        _module(
            "if self.training:\n            p = self.p\n        else:\n            p = 0.0\n"
            "        x = F.scaled_dot_product_attention(x, x, x, dropout_p=p)"
        ),
    ),
    "a-branch": ("DL406", _module("if self.training:\n            x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.p)")),
    "a-zero": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=0.0)")),
    "a-default": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, is_causal=True)")),
    "a-parameter": ("DL406", "class A(nn.Module):\n    def forward(self, q, dropout_p=0.0):\n        return F.scaled_dot_product_attention(q, q, q, dropout_p=dropout_p)\n"),
    "a-free-function": ("DL406", "def attend(q, p):\n    return F.scaled_dot_product_attention(q, q, q, dropout_p=p)\n"),
    "a-attr-set-from-training": (
        "DL406",
        _module("self.cur = self.p if self.training else 0.0\n        x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.cur)"),
    ),
    "a-unknown-call": ("DL406", _module("x = F.scaled_dot_product_attention(x, x, x, dropout_p=self.rate())")),
    # DL409
    "d-assigned": ("DL409", _module("x = F.dropout(x, self.p, self.training)")),
    "d-inplace": ("DL409", _module("F.dropout(x, self.p, self.training, inplace=True)\n        torch.dropout_(x, 0.1, True)")),
    "d-inplace-module": ("DL409", _module("self.drop(x)", "self.drop = nn.Dropout(p, inplace=True)")),
    "d-unknown-module": ("DL409", _module("self.drop(x)", "self.drop = make_dropout(p)")),
    "d-returned": ("DL409", _module("return F.dropout(x, self.p, self.training)")),
    "d-inplace-unknown": ("DL409", _module("F.dropout(x, self.p, self.training, inplace=self.inplace)")),
    # DL410: reads that happen later, or that choose nothing about the module
    "m-forward": ("DL410", _module("x = F.dropout(x, self.p, self.training)", "self.drop = nn.Dropout(p)")),
    "m-closure": ("DL410", _module("pass", "self.gate = lambda: self.p if self.training else 0.0")),
    "m-nested-function": ("DL410", _module("pass", "def rate():\n            return p if self.training else 0.0\n        self.rate = rate")),
    "m-after-eval": ("DL410", _module("pass", "self.eval()\n        self.drop = nn.Dropout(p) if self.training else nn.Identity()")),
    "m-after-assign": ("DL410", _module("pass", "self.training = False\n        self.drop = nn.Dropout(p) if self.training else None")),
    "m-no-choice": ("DL410", _module("pass", "assert self.training\n        if self.training and p > 0.5:\n            log(p)")),
    "m-plain-object": ("DL410", "class Task:\n    def __init__(self, training):\n        self.training = training\n        self.x = 1 if self.training else 2\n"),
    "m-not-a-module": ("DL410", "class Task:\n    def __init__(self):\n        self.x = 1 if self.training else 2\n"),
    "m-own-property": (
        "DL410",
        "class M(nn.Module):\n    training = False\n    def __init__(self):\n        super().__init__()\n"
        "        self.drop = nn.Dropout(0.1) if self.training else nn.Identity()\n",
    ),
    "m-helper-called-later": (
        "DL410",
        _module("self._build()", "self._build()")
        + "\n    def _build(self):\n        self.drop = nn.Dropout(self.p) if self.training else nn.Identity()\n",
    ),
}


@pytest.mark.parametrize(("rule", "source", "expected"), FLAGGED.values(), ids=FLAGGED.keys())
def test_flags(rule: str, source: str, expected: list[tuple[int, str]]) -> None:
    assert findings(source, select=(rule,)) == expected


@pytest.mark.parametrize(("rule", "body"), SILENT.values(), ids=SILENT.keys())
def test_silent(rule: str, body: str) -> None:
    assert findings(HEADER + body, select=tuple(rule.split(","))) == []


@pytest.mark.parametrize(
    "imports",
    [
        "import torch.nn.functional as F",
        "from torch.nn import functional as F",
        "import torch.nn as nn\nF = None",
    ],
)
def test_alias_spellings_of_the_same_bug(imports: str) -> None:
    source = f"""\
import torch.nn as nn
{imports}

class M(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.1)
"""
    expected_line = source.count("\n") - 0
    result = findings(source, select=("DL401",))
    if "F = None" in imports:
        assert result == []
    else:
        assert result == [(expected_line, "DL401")]


def test_max_rate_is_configurable() -> None:
    source = "import torch.nn as nn\nd = nn.Dropout(0.6)\n"
    assert findings(source, select=("DL202",)) == [(2, "DL202")]
    assert findings(source, select=("DL202",), max_rate=0.7) == []
    assert findings(source, select=("DL202",), max_rate=0.3) == [(2, "DL202")]


def test_training_flag_set_on_purpose_next_to_eval() -> None:
    # ultralytics: the whole model in eval, the detection head alone in training mode.
    source = HEADER + "def build(self, m):\n    self.model.eval()\n    m.training = True\n    self.model.train()\n"
    assert findings(source, select=("DL305",)) == []
    same = HEADER + "def f(model):\n    model.eval()\n    model.training = True\n"
    assert findings(same, select=("DL305",)) == [(6, "DL305")]


def test_forced_on_inside_a_training_branch() -> None:
    # torch_geometric's RGATConv: `elif self.training and self.dropout > 0: F.dropout(..., training=True)`
    source = HEADER + _module("if self.training and self.p > 0:\n            x = F.dropout(x, self.p, training=True)")
    assert findings(source, select=("DL404",)) == []


def test_a_rate_the_code_tests_is_not_resolved() -> None:
    # diffusers' layer-skip hook: dropout=1.0 by default means "skip", handled before the call.
    source = HEADER + (
        "class Hook:\n"
        "    def __init__(self, dropout=1.0):\n"
        "        self.dropout = dropout\n"
        "    def new_forward(self, output):\n"
        "        if math.isclose(self.dropout, 1.0):\n"
        "            return None\n"
        "        else:\n"
        "            return F.dropout(output, p=self.dropout)\n"
    )
    assert findings(source, select=("DL201",)) == []
    unguarded = source.replace("        if math.isclose(self.dropout, 1.0):\n            return None\n        else:\n    ", "    ")
    assert findings(unguarded, select=("DL201",)) == [(8, "DL201")]


def test_dropout_under_a_flag_from_the_caller() -> None:
    # deepchem: `x, dropout_switch = inputs` and `if dropout > 0.0 and dropout_switch: F.dropout(...)`
    switched = _module("x, switch = x\n        if self.p > 0.0 and switch:\n            x = F.dropout(x, self.p)")
    assert findings(HEADER + switched, select=("DL401",)) == []
    # Testing the rate itself is not a mode switch.
    rate_only = "class M(nn.Module):\n    def forward(self, x, rates):\n        for p in rates:\n            if p:\n                x = F.dropout(x, p)\n        return x\n"
    assert findings(HEADER + rate_only, select=("DL401",)) == [(8, "DL401")]
    config_flag = _module("if self.use_dropout:\n            x = F.dropout(x, self.p)")
    assert findings(HEADER + config_flag, select=("DL401",)) == [(12, "DL401")]
