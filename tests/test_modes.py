"""The train/eval mode analysis (DL301, DL302, DL303) and the flags rule (DL407)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_project import run

NET = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)
        self.out = nn.Linear(8, 2)

    def forward(self, x):
        return self.out(self.drop(self.fc(x)))


class Plain(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(x)
"""

MODES = ("DL301", "DL302", "DL303")


def lint(tmp_path: Path, script: str, extra: dict[str, str] | None = None, select: tuple[str, ...] = MODES) -> list[tuple[str, int, str]]:
    files = {"net.py": NET, "script.py": "import torch\nimport torch.nn.functional as F\nfrom net import Net, Plain\n" + textwrap.dedent(script)}
    files.update(extra or {})
    return run(tmp_path, files, select=select)


def lines(found: list[tuple[str, int, str]]) -> list[tuple[int, str]]:
    return [(line - 3, code) for path, line, code in found if path == "script.py"]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # Inference after load_state_dict, without eval().
        (
            """\
            def infer(batch):
                model = Net()
                model.load_state_dict(torch.load("m.pt"))
                with torch.no_grad():
                    return model(batch).argmax(1)
            """,
            [(5, "DL301")],
        ),
        # An evaluation function: no no_grad needed to tell.
        ("def predict(batch):\n    model = Net()\n    return model(batch).argmax(1)\n", [(3, "DL301")]),
        # A loop over a validation loader.
        ("def run(val_loader):\n    model = Net()\n    for x, y in val_loader:\n        print(model(x))\n", [(4, "DL301")]),
        # Models without dropout or batch norm behave the same in both modes.
        ("def predict(batch):\n    model = Plain()\n    return model(batch)\n", []),
        # eval() on the chain that builds it.
        ("def predict(batch):\n    model = Net().eval()\n    return model(batch).argmax(1)\n", []),
        ("def predict(batch, d):\n    model = Net().to(d).eval()\n    return model(batch).argmax(1)\n", []),
        # eval() on one branch only.
        (
            """\
            def predict(batch, resume):
                model = Net()
                if resume:
                    model.eval()
                return model(batch).argmax(1)
            """,
            [(5, "DL301")],
        ),
        # A model handed to code outside the run has an unknown mode afterwards.
        (
            """\
            from transformers import Trainer
            from lightning import Trainer as LTrainer


            def run(batch, ds, loader):
                model = Net()
                trainer = Trainer(model=model, train_dataset=ds)
                trainer.train()
                other = Net()
                LTrainer().fit(other, loader)
                with torch.no_grad():
                    return model(batch).argmax(1), other(batch).argmax(1)
            """,
            [],
        ),
        # Export right after building; and an export whose result is kept.
        ("def export(x):\n    model = Net()\n    return torch.jit.trace(model, x)\n", [(3, "DL303")]),
        (
            """\
            def export(x):
                model = Net()
                traced = torch.jit.trace(model, x)
                exported = torch.export.export(model, (x,))
                return traced, exported
            """,
            [(3, "DL303"), (4, "DL303")],
        ),
        ("def export(x):\n    model = Net().eval()\n    return torch.jit.trace(model, x)\n", []),
        # The dynamo exporter (onnx.export's default since torch 2.9) keeps the mode;
        # the TorchScript one switches to eval unless told to keep training mode.
        ("def export(x):\n    model = Net()\n    torch.onnx.export(model, x, 'm.onnx')\n", [(3, "DL303")]),
        ("def export(x):\n    model = Net()\n    torch.onnx.export(model, x, 'm.onnx', dynamo=False)\n", []),
        (
            "def export(x):\n    model = Net()\n    torch.onnx.export(model, x, 'm.onnx', training=torch.onnx.TrainingMode.EVAL)\n",
            [],
        ),
        (
            "def export(x):\n    model = Net()\n    torch.onnx.export(model, x, 'm.onnx', training=torch.onnx.TrainingMode.TRAINING)\n",
            [(3, "DL303")],
        ),
    ],
    ids=[
        "load-state-dict",
        "predict-function",
        "val-loader",
        "no-mode-layers",
        "eval-chained",
        "to-eval-chained",
        "one-branch",
        "handed-outside",
        "jit-trace",
        "export-kept",
        "export-after-eval",
        "onnx-dynamo-default",
        "onnx-torchscript",
        "onnx-told-eval",
        "onnx-training",
    ],
)
def test_evaluation_and_export(tmp_path: Path, script: str, expected: list[tuple[int, str]]) -> None:
    assert lines(lint(tmp_path, script)) == expected


TRAIN_LOOP = """\
def fit(model, train_loader, val_loader, epochs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    {before}
    for epoch in range(epochs):
        {top}
        for x, y in train_loader:
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
        {after}


def main(loader):
    fit(Net(), loader, loader, 3)
"""


@pytest.mark.parametrize(
    ("before", "top", "after", "expected"),
    [
        # The article's loop.
        ("pass", "model.train()", "model.eval()", []),
        # eval() at the end of one epoch reaches the next epoch's training step.
        ("model.train()", "pass", "model.eval()", [(7, "DL302")]),
        ("pass", "model.eval()", "model.train()", [(7, "DL302")]),
        # A freezing of a part is not the model's mode.
        ("model.train()", "model.backbone.eval()", "pass", []),
    ],
    ids=["article", "eval-at-epoch-end", "wrong-order", "freeze-part"],
)
def test_training_loops(tmp_path: Path, before: str, top: str, after: str, expected: list[tuple[int, str]]) -> None:
    script = TRAIN_LOOP.format(before=before, top=top, after=after)
    assert lines(lint(tmp_path, script)) == expected


HELPERS = """\
import torch


def validate(model, loader):
    model.eval()
    with torch.no_grad():
        return sum(model(x).argmax(1).sum().item() for x, _ in loader)


def validate_restoring(model, loader):
    model.eval()
    try:
        with torch.no_grad():
            return sum(model(x).argmax(1).sum().item() for x, _ in loader)
    finally:
        model.train()


def evaluate(model, loader):
    return sum(model(x).argmax(1).sum().item() for x, _ in loader)
"""

STEPPING = """\
from helpers import evaluate, validate, validate_restoring


def fit(model, loader, check):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for step, (x, y) in enumerate(loader):
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        if step % 100 == 0:
            {check}(model, loader)


def main(loader):
    fit(Net(), loader, None)
"""


@pytest.mark.parametrize(
    ("check", "expected"),
    [("validate", [(8, "DL302")]), ("validate_restoring", [])],
)
def test_helpers_in_another_file(tmp_path: Path, check: str, expected: list[tuple[int, str]]) -> None:
    script = STEPPING.format(check=check)
    assert lines(lint(tmp_path, script, {"helpers.py": HELPERS})) == expected


def test_an_evaluate_helper_is_reported_where_the_caller_passes_a_training_model(tmp_path: Path) -> None:
    script = """\
    from helpers import evaluate


    def main(loader):
        model = Net()
        model.train()
        evaluate(model, loader)
        model.eval()
        evaluate(model, loader)
    """
    found = lint(tmp_path, script, {"helpers.py": HELPERS})
    assert lines(found) == [(7, "DL301")]


def test_evaluator_class_holding_the_model(tmp_path: Path) -> None:
    script = """\
    class Evaluator:
        def __init__(self, model):
            self.model = model

        @torch.no_grad()
        def run(self, loader):
            return [self.model(x).argmax(1) for x, _ in loader]


    def main(loader):
        model = Net()
        Evaluator(model).run(loader)
        model.eval()
        Evaluator(model).run(loader)
    """
    assert lines(lint(tmp_path, script)) == [(12, "DL301")]


def test_a_trainers_own_train_method_is_not_a_mode(tmp_path: Path) -> None:
    script = """\
    class Runner:
        def __init__(self):
            self.model = Net()
            self.model.eval()

        def train(self):
            return None

        def predict(self, batch):
            self.train()
            return self.model(batch).argmax(1)
    """
    assert lines(lint(tmp_path, script)) == []


def test_lightning_steps_are_left_to_lightning(tmp_path: Path) -> None:
    script = """\
    import pytorch_lightning as pl


    class Lit(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = Net()
            self.net.train()

        def validation_step(self, batch, idx):
            with torch.no_grad():
                return self.net(batch[0]).argmax(1)
    """
    assert lines(lint(tmp_path, script)) == []


def test_eval_mode_context_managers(tmp_path: Path) -> None:
    script = """\
    from monai.networks.utils import eval_mode


    def fit(model, loader):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model.train()
        for x, y in loader:
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
            with eval_mode(model):
                with torch.no_grad():
                    print(model(x).argmax(1))


    def main(loader):
        fit(Net(), loader)
    """
    assert lines(lint(tmp_path, script)) == []


FLAGGED = """\
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.is_training = True

    def forward(self, x):
        return F.dropout(x, 0.1, training=self.is_training)
"""


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("", [("block.py", 11, "DL407")]),
        ("from block import Block\nmodel = Block()\nmodel.is_training = False\n", []),
        ("from block import Block\nmodel = Block()\nsetattr(model, 'is_training', False)\n", []),
        ("from block import Block\n\n\ndef main():\n    model = Block()\n    model.is_training = False\n", []),
    ],
    ids=["never-changed", "set-at-top-level", "setattr", "set-in-a-function"],
)
def test_home_made_flag_is_fine_when_the_run_changes_it(tmp_path: Path, script: str, expected: list[tuple[str, int, str]]) -> None:
    files = {"block.py": FLAGGED}
    if script:
        files["main.py"] = script
    assert run(tmp_path, files, select=("DL407",)) == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # Either branch builds the model; eval() switches whichever was built.
        (
            """\
            def predict(flag, x):
                if flag:
                    model = Net()
                else:
                    model = Net()
                model.eval()
                with torch.no_grad():
                    return model(x).argmax(1)
            """,
            [],
        ),
        # One epoch function for both phases: the step runs only in the training phase.
        (
            """\
            def run_epoch(model, loader, opt, is_train):
                if is_train:
                    model.train()
                else:
                    model.eval()
                for x, y in loader:
                    loss = F.cross_entropy(model(x), y)
                    if is_train:
                        opt.zero_grad()
                        loss.backward()
                        opt.step()
            """,
            [],
        ),
        (
            """\
            def fit(model, loaders, opt, epochs):
                for epoch in range(epochs):
                    for phase in ["train", "val"]:
                        if phase == "train":
                            model.train()
                        else:
                            model.eval()
                        for x, y in loaders[phase]:
                            with torch.set_grad_enabled(phase == "train"):
                                loss = F.cross_entropy(model(x), y)
                                if phase == "train":
                                    loss.backward()
                                    opt.step()
            """,
            [],
        ),
        # A wrapper shares the model's mode: validate() leaves both in eval.
        (
            """\
            def validate(model, loader):
                model.eval()
                with torch.no_grad():
                    return [model(x).argmax(1) for x, _ in loader]


            def main(train_loader, val_loader, opt):
                model = torch.compile(Net())
                model.train()
                for epoch in range(3):
                    for x, y in train_loader:
                        F.cross_entropy(model(x), y).backward()
                        opt.step()
                    validate(model, val_loader)
            """,
            [(12, "DL302")],
        ),
        (
            """\
            def validate(model, loader):
                model.eval()
                with torch.no_grad():
                    return [model(x).argmax(1) for x, _ in loader]


            def main(train_loader, val_loader, opt):
                model = torch.nn.parallel.DataParallel(Net())
                model.train()
                for epoch in range(3):
                    for x, y in train_loader:
                        F.cross_entropy(model(x), y).backward()
                        opt.step()
                    validate(model, val_loader)
            """,
            [(12, "DL302")],
        ),
        # A hand-written loss taken with .item() under inference_mode evaluates.
        (
            """\
            @torch.inference_mode()
            def estimate_loss(model, batches):
                return [((model(x) - y) ** 2).mean().item() for x, y in batches]


            def main(batches):
                model = Net()
                return estimate_loss(model, batches)
            """,
            [(8, "DL301")],
        ),
        # A library's model class built from a config starts in training mode.
        (
            """\
            from transformers import GPT2Config, GPT2LMHeadModel


            @torch.inference_mode()
            def estimate_loss(model, batches):
                return [model(input_ids=x, labels=y).loss.item() for x, y in batches]


            def main(batches):
                model = GPT2LMHeadModel(GPT2Config())
                return estimate_loss(model, batches)
            """,
            [(11, "DL301")],
        ),
    ],
    ids=["if-else-binding", "phase-flag", "phase-loop", "torch-compile", "data-parallel", "item-metric", "library-model"],
)
def test_cases_from_real_scripts(tmp_path: Path, script: str, expected: list[tuple[int, str]]) -> None:
    assert lines(lint(tmp_path, script)) == expected


GLOBAL_MODEL = """\
model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)


def test():
    {test}
    with torch.no_grad():
        return model(torch.randn(2, 8)).argmax(1)


def train():
    model.train()
    for i in range(100):
        optimizer.zero_grad()
        model(torch.randn(2, 8)).sum().backward()
        optimizer.step()
        if i % 10 == 0:
            test()
            {after_test}


if __name__ == "__main__":
    {main}
"""


@pytest.mark.parametrize(
    ("test", "after_test", "main", "expected"),
    [
        # A script's global model: test() leaves it in eval for the next steps.
        ("model.eval()", "pass", "train()", [(15, "DL302")]),
        ("model.eval()", "model.train()", "train()", []),
        # test() without eval(): from train() and straight from the top level.
        ("pass", "pass", "test()", [(18, "DL301"), (23, "DL301")]),
        ("model.eval()", "model.train()", "test()", []),
    ],
    ids=["eval-in-test", "train-after-test", "test-at-top", "test-at-top-with-eval"],
)
def test_models_held_in_globals(tmp_path: Path, test: str, after_test: str, main: str, expected: list[tuple[int, str]]) -> None:
    script = GLOBAL_MODEL.format(test=test, after_test=after_test, main=main)
    assert lines(lint(tmp_path, script)) == expected


def test_a_global_name_bound_in_the_function_is_its_own(tmp_path: Path) -> None:
    script = """\
    model = Net()


    def evaluate(loader):
        model = Net()
        model.eval()
        with torch.no_grad():
            return [model(x).argmax(1) for x in loader]


    def main(loader):
        evaluate(loader)
        with torch.no_grad():
            return [m(x).argmax(1) for x in loader for m in [model.eval()]]
    """
    assert lines(lint(tmp_path, script)) == []


def test_the_runs_own_from_pretrained_returns_what_it_builds(tmp_path: Path) -> None:
    gpt = NET + """

class GPT(Net):
    @classmethod
    def from_pretrained(cls, name):
        model = GPT()
        return model
"""
    script = """\
    from net import GPT


    def finetune(loader, opt):
        model = GPT.from_pretrained("gpt2")
        for x, y in loader:
            F.cross_entropy(model(x), y).backward()
            opt.step()


    @torch.no_grad()
    def predict(x):
        model = GPT.from_pretrained("gpt2")
        return model(x).argmax(-1)
    """
    assert lines(lint(tmp_path, script, {"net.py": gpt})) == [(14, "DL301")]


@pytest.mark.parametrize(
    ("taken", "expected"),
    [
        # A scalar taken with .item(): a metric, so the pass under no_grad is an evaluation.
        ("total += model(item).sum().item()", [(11, "DL301")]),
        # A loop variable called `item` is no metric: outputs kept under no_grad in training.
        ("outputs.append(model(item))", []),
    ],
)
def test_item_is_a_metric_only_as_a_call(tmp_path: Path, taken: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
    def fit(model, loader):
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        outputs, total = [], 0.0
        for epoch in range(3):
            model.train()
            for x, y in loader:
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            with torch.no_grad():
                for item, _ in loader:
                    {taken}
    fit(Net(), [])
    """
    assert lines(lint(tmp_path, script)) == expected
