from __future__ import annotations

import libcst as cst
import pytest

from dropout_lint.analysis.syntax import iter_nodes
from dropout_lint.analysis.training import exported, mentions_mode, picks_phase, training_loops


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


@pytest.mark.parametrize(
    ("text", "loops"),
    [
        ("for x in data:\n    loss(x).backward()\n", 1),
        ("for x in data:\n    loss = f(x)\n    loss.backward()\n    if i % 4 == 0:\n        optimizer.step()\n", 1),
        # The step depends on the phase: the loop also evaluates.
        ("for x in data:\n    loss = f(x)\n    if is_train:\n        loss.backward()\n", 0),
        ("for x in data:\n    loss = f(x)\n    if phase == 'train':\n        loss.backward()\n        opt.step()\n", 0),
        ("while True:\n    if mode != 'val':\n        loss.backward()\n", 0),
        # An outer epoch loop holds the inner training loop.
        ("for epoch in range(3):\n    for x in data:\n        loss(x).backward()\n", 2),
        ("for x in data:\n    print(x)\n", 0),
    ],
)
def test_training_loops(text: str, loops: int) -> None:
    assert len(training_loops(cst.parse_module(text))) == loops


@pytest.mark.parametrize(("text", "phase"), [("phase == 'train'", True), ("split != 'test'", True), ("i % 4 == 0", False), ("scaler is not None", False)])
def test_picks_phase(text: str, phase: bool) -> None:
    assert picks_phase(cst.parse_expression(text)) is phase


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ("acts.extend(net(x).detach().numpy())\n", ["net(x)"]),
        ("rows += net(x).cpu().numpy().tolist()\n", ["net(x)"]),
        ("y = net.data.numpy()\n", []),
        ("out = net(x)\nkept = out.detach().cpu().numpy()\n", ["net(x)"]),
        # A result looked at otherwise, or data converted that no call gave: nothing kept.
        ("out = net(x)\nprint(out.shape)\n", []),
        ("arr = x.numpy()\nout = net(torch.from_numpy(arr))\n", []),
        ("loss = f(net(x))\nhistory.append(loss.item())\n", []),
    ],
)
def test_exported(text: str, calls: list[str]) -> None:
    module = cst.parse_module(text)
    found = exported(module)
    kept = [module.code_for_node(node) for node in iter_nodes(module) if id(node) in found]
    assert kept == calls
