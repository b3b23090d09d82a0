from __future__ import annotations

import libcst as cst
import pytest

from dropout_lint.analysis.training import mentions_mode


@pytest.mark.parametrize(
    "text",
    [
        "self.training",
        "not self.training",
        "self.p if self.training else 0.0",
        "self.training and self.p",
        "training",
        "is_train",
        "self.is_training",
        "not deterministic",
        "not self.config.inference_mode",
        "torch.is_grad_enabled()",
        "model.training or force",
        "self.attn.training",
        "0.0 if not self.training else self.attention_dropout",
    ],
)
def test_mentions_mode(text: str) -> None:
    assert mentions_mode(cst.parse_expression(text))


@pytest.mark.parametrize(
    "text",
    ["self.p", "0.1", "self.config.attention_dropout", "p * 2", "'training'", "f'{x}'", "lambda: self.training", "x[0]"],
)
def test_does_not_mention_mode(text: str) -> None:
    assert not mentions_mode(cst.parse_expression(text))
