"""The tracer on real Hugging Face models, built from tiny configs here (nothing is
downloaded): correct models, with dropout in their configs, give no finding. A slow
test; `.ci/run` installs transformers for it (it works without torchvision, which cannot
be installed beside the CPU torch of these machines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from torch import nn

from dropout_lint.tracer.trace import Inputs, trace_model

pytestmark = pytest.mark.slow

SMALL = {"num_hidden_layers": 2, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 100}
DROPOUT = {"hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1}


def _tokens() -> dict[str, Any]:
    return {"input_ids": torch.randint(0, 100, (2, 12)), "attention_mask": torch.ones(2, 12, dtype=torch.long)}


def _bert(attention: str, **config: Any) -> nn.Module:
    import transformers  # the slow set needs it: without it the test fails, it does not skip

    return transformers.BertForSequenceClassification(transformers.BertConfig(attn_implementation=attention, **{**SMALL, **config}))


def _gpt2(attention: str) -> nn.Module:
    import transformers

    config = transformers.GPT2Config(
        vocab_size=100, n_layer=2, n_embd=32, n_head=2, resid_pdrop=0.1, embd_pdrop=0.1, attn_pdrop=0.1, attn_implementation=attention
    )
    return transformers.GPT2LMHeadModel(config)


def _vit() -> nn.Module:
    import transformers

    config = transformers.ViTConfig(image_size=32, patch_size=8, **{**SMALL, **DROPOUT})
    return transformers.ViTForImageClassification(config)


CASES: dict[str, tuple[Callable[[], nn.Module], Callable[[], dict[str, Any]]]] = {
    "bert-sdpa": (lambda: _bert("sdpa", **DROPOUT), _tokens),
    "bert-eager": (lambda: _bert("eager", **DROPOUT), _tokens),
    "bert-no-attention-dropout": (lambda: _bert("eager", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.0), _tokens),
    "bert-hidden-states": (lambda: _bert("sdpa", **DROPOUT), lambda: {**_tokens(), "output_hidden_states": True}),
    "gpt2-sdpa": (lambda: _gpt2("sdpa"), _tokens),
    "gpt2-eager": (lambda: _gpt2("eager"), _tokens),
    "vit": (_vit, lambda: {"pixel_values": torch.randn(2, 3, 32, 32)}),
}


@pytest.mark.parametrize("name", CASES)
def test_a_correct_real_model_gives_no_finding(name: str) -> None:
    build, inputs = CASES[name]
    torch.manual_seed(0)
    model = build()
    result = trace_model(model, Inputs((), inputs()), conformance=True)
    assert [(f.code, f.message) for f in result.findings] == []
    assert any(isinstance(m, nn.Dropout) and m.p > 0 for m in model.modules())  # there was dropout to judge


def test_a_real_model_with_an_ungated_layerdrop_is_found() -> None:
    """The same BERT with its encoder's layers skipped at random in eval too: the draw is
    found, at its line, whatever the seed."""
    import random

    model = _bert("sdpa", **DROPOUT)
    layers = model.bert.encoder.layer

    returns: list[type] = []
    hook = layers[0].register_forward_hook(lambda module, args, output: returns.append(type(output)))
    with torch.no_grad():
        model(**_tokens())
    hook.remove()

    def skipping(layer: nn.Module) -> Callable[..., Any]:
        forward = layer.forward

        def run(hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> Any:
            if random.random() < 0.5:  # the bug: not gated on self.training (DRAW)
                return (hidden_states,) if returns[0] is tuple else hidden_states
            return forward(hidden_states, *args, **kwargs)

        return run

    for layer in layers:
        layer.forward = skipping(layer)
    draw = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1) if text.endswith("(DRAW)"))
    for seed in range(3):
        result = trace_model(model, Inputs((), _tokens()), seed=seed)
        found = {(Path(f.file).name, f.line) for f in result.findings if f.code == "DL502" and f.file is not None}
        assert (Path(__file__).name, draw) in found, seed
