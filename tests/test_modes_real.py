"""The mode analysis on the forms real training code takes (issue classes found on
public tutorials and libraries): what a training step is, restored modes, optimised
inputs, models that hold other models, and the message naming what depends on the mode."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from test_modes import MODES, NET, lines, lint

from dropout_lint import lint_source
from dropout_lint.config import Config
from dropout_lint.runner import lint_files

MORE = """\
import abc

import torch
import torch.nn as nn
from nemo.core import NeuralModule
from somewhere import ExternalNet


class BatchNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.bn = nn.BatchNorm1d(8)

    def forward(self, x):
        return self.bn(self.fc(x))


class Encoder(NeuralModule, abc.ABC):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.scale = nn.Parameter(torch.Tensor(8))

    def forward(self, x):
        return self.fc(x) * self.scale


class Subclassed(ExternalNet):
    def forward(self, x):
        return super().forward(x)


class Seq2seq(nn.Module):
    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.encoder(x))
"""

HEADER = "from more import BatchNet, Encoder, Seq2seq, Subclassed\n"


def check(tmp_path: Path, script: str) -> list[tuple[int, str]]:
    return [(line - 1, code) for line, code in lines(lint(tmp_path, HEADER + textwrap.dedent(script), {"more.py": MORE}))]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # 1. Sampling between eval() and a restoring train() takes no training step.
        (
            """\
            def train(loader, optimizer, fixed_z):
                model = Net()
                for epoch in range(10):
                    for x, y in loader:
                        loss = F.cross_entropy(model(x), y)
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                        model.eval()
                        samples = model(fixed_z)
                        model.train()
            """,
            [],
        ),
        # ... while a training step after eval() with no train() is still an error.
        (
            """\
            def train(loader, optimizer, fixed_z):
                model = Net()
                for epoch in range(10):
                    for x, y in loader:
                        model.eval()
                        samples = model(fixed_z)
                        loss = F.cross_entropy(model(x), y)
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
            """,
            [(7, "DL302")],
        ),
        # 2. An input optimised through a frozen network: eval is right.
        (
            """\
            def transfer(content):
                vgg = Net().eval()
                target = content.clone().requires_grad_(True)
                optimizer = torch.optim.Adam([target])
                for step in range(100):
                    loss = F.mse_loss(vgg(target), content)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            """,
            [],
        ),
        (
            """\
            def finetune(content):
                vgg = Net().eval()
                optimizer = torch.optim.Adam(vgg.parameters())
                for step in range(100):
                    loss = F.mse_loss(vgg(content), content)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
            """,
            [(5, "DL302")],
        ),
        # 3. The restore idiom, inline and in a helper called inside the loop.
        (
            """\
            def sample(model, z):
                was_training = model.training
                model.eval()
                with torch.no_grad():
                    out = model(z)
                if was_training:
                    model.train()
                return out


            def train(loader, optimizer):
                model = Net()
                for x, y in loader:
                    loss = F.cross_entropy(model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    sample(model, x)
                    prev = model.training
                    model.eval()
                    preview = model(x)
                    model.train(mode=prev)
            """,
            [],
        ),
        # 4. Known layers beside a framework base and abc.ABC; a Parameter is no layer.
        ("def predict(batch):\n    model = Encoder()\n    return model(batch).argmax(1)\n", []),
        ("def predict(batch):\n    model = Subclassed()\n    return model(batch).argmax(1)\n", [(3, "DL301")]),
        # nn.Sequential over models that exist keeps their modes.
        (
            """\
            def predict(batch):
                backbone = Net().eval()
                model = torch.nn.Sequential(backbone, Plain())
                return model(batch).argmax(1)
            """,
            [],
        ),
        (
            """\
            def predict(batch):
                backbone = Net()
                model = torch.nn.Sequential(backbone, Plain())
                return model(batch).argmax(1)
            """,
            [(4, "DL301")],
        ),
        # 7. A stored result keeps what the call did to the model.
        (
            """\
            def validate(model, loader):
                model.eval()
                correct = 0
                with torch.no_grad():
                    for x, y in loader:
                        correct += (model(x).argmax(1) == y).sum().item()
                return correct


            def train(loader, val_loader, optimizer):
                model = Net()
                for epoch in range(3):
                    for x, y in loader:
                        loss = F.cross_entropy(model(x), y)
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                    val_acc = validate(model, val_loader)
            """,
            [(14, "DL302")],
        ),
        # 8. torch.compile shares the mode of what it wraps.
        (
            """\
            def predict(batch):
                model = Net()
                compiled = torch.compile(model)
                with torch.no_grad():
                    return compiled(batch).argmax(1)
            """,
            [(5, "DL301")],
        ),
        (
            """\
            def predict(batch):
                model = Net()
                compiled = torch.compile(model)
                model.eval()
                with torch.no_grad():
                    return compiled(batch).argmax(1)
            """,
            [],
        ),
        # 9. A wrapper has the layers of the parts it is built from.
        ("def predict(batch):\n    model = Seq2seq(Net(), Plain())\n    return model(batch).argmax(1)\n", [(3, "DL301")]),
        ("def predict(batch):\n    model = Seq2seq(Plain(), Plain())\n    return model(batch).argmax(1)\n", []),
        # 11. Accuracy on held-out data inside the training loop evaluates.
        (
            """\
            def train(x, y, test_x, test_y, optimizer):
                model = Net()
                for epoch in range(100):
                    loss = F.cross_entropy(model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    test_out = model(test_x)
                    acc = (test_out.argmax(1) == test_y).float().mean()
            """,
            [(8, "DL301")],
        ),
        (
            """\
            def train(x, y, test_x, test_y, optimizer):
                model = Net()
                for epoch in range(100):
                    model.train()
                    loss = F.cross_entropy(model(x), y)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    model.eval()
                    with torch.no_grad():
                        test_out = model(test_x)
                    acc = (test_out.argmax(1) == test_y).float().mean()
            """,
            [],
        ),
        # 12. train() inside the validation loop turns the next batch back to training.
        (
            """\
            def validate(val_loader):
                model = Net()
                model.eval()
                with torch.no_grad():
                    for x, y in val_loader:
                        out = model(x)
                        model.train()
            """,
            [(6, "DL301")],
        ),
        # 16. onnx.export with the default (dynamo) exporter keeps the training mode.
        ("def export(x):\n    model = Net()\n    torch.onnx.export(model, (x,), 'm.onnx')\n", [(3, "DL303")]),
    ],
    ids=[
        "sampling-between-eval-and-train",
        "step-after-eval",
        "input-optimised",
        "network-optimised",
        "restore-idiom",
        "framework-base-known-layers",
        "external-base-unseen-layers",
        "sequential-of-eval-model",
        "sequential-of-training-model",
        "stored-result",
        "compiled-shares-mode",
        "compiled-after-eval",
        "wrapper-of-dropout-part",
        "wrapper-of-plain-parts",
        "held-out-accuracy",
        "held-out-accuracy-in-eval",
        "train-inside-validation-loop",
        "onnx-dynamo",
    ],
)
def test_real_code_forms(tmp_path: Path, script: str, expected: list[tuple[int, str]]) -> None:
    assert check(tmp_path, script) == expected


def _messages(tmp_path: Path, script: str) -> list[str]:
    files = {"net.py": NET, "more.py": MORE, "script.py": "import torch\n" + HEADER + textwrap.dedent(script)}
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    results = lint_files(sorted(paths), Config(select=MODES), jobs=1)
    return [d.message for r in results for d in r.diagnostics]


def test_the_message_names_what_depends_on_the_mode(tmp_path: Path) -> None:
    script = """\
    def predict(batch):
        model = BatchNet()
        return model(batch).argmax(1)


    def predict_unknown(batch):
        model = Subclassed()
        return model(batch).argmax(1)
    """
    batch, unseen = _messages(tmp_path, script)
    assert "(batch norm on batch statistics)" in batch and "dropout" not in batch
    assert "in training mode since" in unseen and "dropout" not in unseen and "batch norm" not in unseen


def test_from_pretrained_of_a_class_the_run_cannot_see_is_an_unknown_mode() -> None:
    script = """\
import torch
import torch.nn.functional as F
from model import GPT
from transformers import AutoModelForCausalLM


def finetune(loader, optimizer, name):
    model = GPT.from_pretrained(name)
    hf = AutoModelForCausalLM.from_pretrained(name)
    for x, y in loader:
        loss = F.cross_entropy(model(x), y) + hf(x, labels=y).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""
    found = [(d.span.line, d.code) for d in lint_source(script, "train.py", Config(select=MODES))]
    assert found == [(11, "DL302")]


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        # A smoke test of the output's shape evaluates nothing: dropout keeps the shape.
        ("def test():\n    net = Net()\n    y = net(torch.randn(2, 8))\n    print(y.size())\n", []),
        ("def test():\n    net = Net()\n    print(net(torch.randn(2, 8)).shape)\n", []),
        # ... while a test that looks at the values does.
        ("def test(x):\n    net = Net()\n    y = net(x)\n    print(y.size(), y.argmax(1))\n", [(3, "DL301")]),
    ],
    ids=["shape-of-assigned", "shape-of-call", "values"],
)
def test_a_shape_check_is_no_evaluation(tmp_path: Path, script: str, expected: list[tuple[int, str]]) -> None:
    assert check(tmp_path, script) == expected


SMOKE = """\
def test({params}):
    net = Net()
    {before}
    x = torch.randn(1, 8){move}
    y = net({given})
    print(y)
"""


@pytest.mark.parametrize(
    ("params", "before", "move", "given", "expected"),
    [
        # A model just built and run on made-up inputs: a smoke test, whatever its mode.
        ("", "pass", "", "x", []),
        ("", "pass", ".to('cuda')", "x", []),
        ("", "pass", "", "torch.zeros(1, 8)", []),
        # Run on data, or after its weights were loaded or trained, it evaluates.
        ("data", "pass", "", "data", [(5, "DL301")]),
        ("", "net.load_state_dict(torch.load('net.pt'))", "", "x", [(5, "DL301")]),
        ("loader", "fit(net, loader)", "", "x", [(5, "DL301")]),
        ("opt", "net(torch.randn(1, 8)).sum().backward(); opt.step()", "", "x", [(5, "DL301")]),
    ],
    ids=["noise", "noise-on-device", "zeros", "data", "loaded", "trained-by-helper", "stepped"],
)
def test_a_new_model_run_on_noise_is_a_smoke_test(
    tmp_path: Path, params: str, before: str, move: str, given: str, expected: list[tuple[int, str]]
) -> None:
    helper = "\n\ndef fit(model, loader):\n    for x in loader:\n        model(x).sum().backward()\n"
    assert check(tmp_path, SMOKE.format(params=params, before=before, move=move, given=given) + helper) == expected


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        # A factory of the run that only builds the model gives one with its first weights.
        ("def small():\n    return Net()\n", []),
        # One that may load weights (it calls anything) gives a model that evaluates.
        ("def small():\n    weights = torch.load('net.pt')\n    return Net(weights)\n", [(9, "DL301")]),
    ],
    ids=["builds", "may-load"],
)
def test_a_model_from_a_plain_factory_run_on_noise_is_a_smoke_test(
    tmp_path: Path, factory: str, expected: list[tuple[int, str]]
) -> None:
    script = factory + "\n\ndef test():\n    net = small()\n    x = torch.randn(1, 8)\n    print(net(x))\n"
    assert check(tmp_path, script) == expected


PARTS = """\
import torch
from torch import nn


class Decoder(nn.Module):
    def __init__(self, path):
        from lm_decoders import Scorer, Search

        super().__init__()
        self.scorer = Scorer(path)
        self.search = Search(path)

    def forward(self, x):
        return self.search.decode(x, scorer=self.scorer)


def run(x, path):
    decoder = Decoder(path)
    with torch.no_grad():
        return decoder(x).argmax(-1)
"""


@pytest.mark.parametrize(
    ("forward", "expected"),
    [
        # Parts of a library the run cannot see, passed on or given their own methods:
        # not layers (NeMo's beam-search decoders hold a scorer and a KenLM decoder).
        ("return self.search.decode(x, scorer=self.scorer)", []),
        # Called as a module, such a part may hold anything.
        ("return self.search(x)", [(20, "DL301")]),
        ("return self.search.forward(x)", [(20, "DL301")]),
        ("self.scorer.eval()\n        return self.search.decode(x)", [(21, "DL301")]),
    ],
    ids=["passed-on", "called", "forward", "module-method"],
)
def test_parts_from_unseen_libraries_count_when_used_as_modules(
    tmp_path: Path, forward: str, expected: list[tuple[int, str]]
) -> None:
    script = PARTS.replace("return self.search.decode(x, scorer=self.scorer)", forward)
    found = [(d.span.line, d.code) for d in lint_source(script, "run.py", Config(select=MODES))]
    assert found == expected


OWNER = """\
class Trainer:
    def __init__(self, loader, test_loader):
        self.model = Net()
        self.optimizer = torch.optim.Adam(self.model.parameters())
        self.loader = loader
        self.test_loader = test_loader

    def train_epoch(self):
        self.model.train()
        for x, y in self.loader:
            loss = F.cross_entropy(self.model(x), y)
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()

    @torch.no_grad()
    def evaluate(self):
        {switch}
        correct = 0
        for x, y in self.test_loader:
            correct += (self.model(x).argmax(1) == y).sum().item()
        return correct


def main(loader, test_loader):
    trainer = Trainer(loader, test_loader)
    for epoch in range(3):
        trainer.train_epoch()
        acc = trainer.evaluate()
"""


@pytest.mark.parametrize(("switch", "expected"), [("pass", [(29, "DL301")]), ("self.model.eval()", [])], ids=["no-eval", "eval"])
def test_an_owner_class_builds_trains_and_evaluates_its_model(tmp_path: Path, switch: str, expected: list[tuple[int, str]]) -> None:
    # 10. `self.model = Net()` in __init__, trained in one method, evaluated in another.
    assert check(tmp_path, OWNER.replace("{switch}", switch)) == expected


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "from hydra.utils import instantiate\n\n\ndef predict(cfg, batch):\n    model = instantiate(cfg.model)\n"
            "    model.to('cuda')\n    with torch.no_grad():\n        return model(batch).argmax(1)\n",
            [(8, "DL301")],
        ),
        # `instantiate` builds whatever the configuration names: without code that uses it
        # as a model, it may be a tokenizer.
        (
            "from hydra.utils import instantiate\n\n\ndef predict(cfg, texts):\n    tokenizer = instantiate(cfg.tokenizer)\n"
            "    with torch.no_grad():\n        return tokenizer(texts).argmax(1)\n",
            [],
        ),
        (
            "import zoo\n\n\ndef predict(name, batch):\n    model = getattr(zoo, name)()\n"
            "    with torch.no_grad():\n        return model(batch).argmax(1)\n",
            [],
        ),
        (
            "import zoo\n\n\ndef predict(name, batch, path):\n    model = getattr(zoo, name)()\n"
            "    model.load_state_dict(torch.load(path))\n    with torch.no_grad():\n        return model(batch).argmax(1)\n",
            [(8, "DL301")],
        ),
        (
            "import torchvision.models as models\n\n\ndef predict(name, batch):\n    model = getattr(models, name)()\n"
            "    model.eval()\n    with torch.no_grad():\n        return model(batch).argmax(1)\n",
            [],
        ),
        (
            "import torchvision.models as models\n\n\ndef predict(name, batch):\n    model = getattr(models, name)()\n"
            "    with torch.no_grad():\n        return model(batch).argmax(1)\n",
            [(7, "DL301")],
        ),
    ],
    ids=[
        "hydra-instantiate", "hydra-tokenizer", "getattr-unused", "getattr-loaded", "getattr-factory-eval", "getattr-factory",
    ],  # fmt: skip
)
def test_a_model_from_a_factory_the_run_cannot_see_starts_in_training_mode(
    tmp_path: Path, script: str, expected: list[tuple[int, str]]
) -> None:
    # 14. Its layers are unknown, and a new model starts in training mode.
    assert check(tmp_path, script) == expected


def test_library_models_without_dropout_are_not_mode_dependent(tmp_path: Path) -> None:
    # transformers' Llama-style families default every dropout to 0: comparing their
    # logits with a model of your own does not depend on the mode; GPT-2's does.
    script = (
        "from transformers import GPT2LMHeadModel, LlamaForCausalLM\n\n\n"
        "def compare(config, ids):\n"
        "    theirs = LlamaForCausalLM(config)\n"
        "    gpt = GPT2LMHeadModel(config)\n"
        "    with torch.no_grad():\n"
        "        return theirs(ids).logits.argmax(-1), gpt(ids).logits.argmax(-1)\n"
    )
    assert check(tmp_path, script) == [(8, "DL301")]


def test_a_class_with_its_own_call_is_run_through_that_method(tmp_path: Path) -> None:
    # ultralytics' YOLO: calling the object predicts through a method that switches the mode.
    wrapper = (
        "class Wrapper(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.net = Net()\n\n"
        "    def __call__(self, x):\n"
        "        return self.predict(x)\n\n"
        "    def predict(self, x):\n"
        "        self.net.eval()\n"
        "        with torch.no_grad():\n"
        "            return self.net(x).argmax(1)\n\n\n"
        "def infer(x):\n"
        "    model = Wrapper()\n"
        "    with torch.no_grad():\n"
        "        return model(x).argmax(1)\n"
    )
    assert check(tmp_path, wrapper) == []
    # Through nn.Module's own __call__ (a `forward`), the model's mode is what counts.
    assert check(tmp_path, wrapper.replace("def __call__", "def forward")) == [(18, "DL301")]


def test_a_switch_tells_the_mode_of_a_model_the_run_did_not_see_built(tmp_path: Path) -> None:
    # optuna's example (DL302 at its pre-fix commit): the model comes from a function that
    # returns `nn.Sequential(*layers)`; `model.train()` once, `model.eval()` every epoch.
    script = (
        "def define_model(n):\n"
        "    layers = [torch.nn.Linear(8, 8), torch.nn.Dropout(0.2)] * n\n"
        "    return torch.nn.Sequential(*layers)\n\n\n"
        "def objective(n, loader, valid_loader):\n"
        "    model = define_model(n).to('cpu')\n"
        "    optimizer = torch.optim.Adam(model.parameters())\n"
        "    model.train()\n"
        "    for epoch in range(10):\n"
        "        for x, y in loader:\n"
        "            optimizer.zero_grad()\n"
        "            loss = F.nll_loss(model(x), y)\n"
        "            loss.backward()\n"
        "            optimizer.step()\n"
        "        model.eval()\n"
        "        with torch.no_grad():\n"
        "            for x, y in valid_loader:\n"
        "                correct = model(x).argmax(1).eq(y).sum().item()\n"
    )
    assert check(tmp_path, script) == [(13, "DL302")]


@pytest.mark.parametrize(("frozen", "expected"), [("extractor", []), ("model", [(7, "DL302")])])
def test_a_frozen_network_in_the_loss_takes_no_training_step(tmp_path: Path, frozen: str, expected: list[tuple[int, str]]) -> None:
    # SRGAN's perceptual loss: a VGG feature extractor in eval mode; the optimizer holds
    # the generator's parameters only.
    script = (
        "def train(loader):\n"
        "    model = Net()\n"
        "    extractor = Net()\n"
        f"    {frozen}.eval()\n"
        "    optimizer = torch.optim.Adam(model.parameters())\n"
        "    for x, y in loader:\n"
        "        fake = model(x)\n"
        "        loss = F.mse_loss(extractor(fake), extractor(y))\n"
        "        optimizer.zero_grad()\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
    )
    assert check(tmp_path, script) == expected


RUNNER = """\
class Runner:
    def __init__(self):
        self.model = Net()
        self.optimizer = torch.optim.Adam(self.model.parameters())

    def _run_epoch(self, loader, train=True):
        total = 0.0
        with torch.set_grad_enabled(train):
            for x, y in loader:
                loss = F.cross_entropy(self.model(x), y)
                if train:
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                total += loss.item()
        return total

    def fit(self, train_loader, test_loader):
        for epoch in range(3):
            {switch}
            self._run_epoch(train_loader, train=True)
            self._run_epoch(test_loader, False)


def main(train_loader, test_loader):
    runner = Runner()
    runner.fit(train_loader, test_loader)
"""


@pytest.mark.parametrize(
    ("switch", "expected"),
    # A new model is reported where `main` hands it over; a switch inside `fit`, in `fit`.
    [("pass", [(27, "DL301")]), ("self.model.train()", [(22, "DL301")]), ("self.model.eval()", [(21, "DL302")])],
    ids=["new-model", "train", "eval"],
)
def test_a_flag_chooses_whether_an_epoch_trains_or_evaluates(tmp_path: Path, switch: str, expected: list[tuple[int, str]]) -> None:
    # 11. `_run_epoch(test_loader, train=False)` evaluates in whatever mode the model is in.
    assert check(tmp_path, RUNNER.replace("{switch}", switch)) == expected


def test_a_gan_step_is_no_evaluation(tmp_path: Path) -> None:
    # PyTorch-GAN: a discriminator loss never back-propagated (the gradient penalty is), and
    # detached predictions in the generator's step, are parts of training steps.
    script = (
        "def train(loader, optimizer_D):\n"
        "    discriminator = Net()\n"
        "    for x, y in loader:\n"
        "        real_pred = discriminator(x).detach()\n"
        "        real_loss = F.mse_loss(discriminator(x), y)\n"
        "        penalty = discriminator(y).sum()\n"
        "        penalty.backward()\n"
        "        optimizer_D.step()\n"
    )
    assert check(tmp_path, script) == []


def test_a_helper_calling_a_model_with_its_own_call_is_not_an_evaluation_of_its_mode(tmp_path: Path) -> None:
    # ultralytics' Streamlit app: `self.model = YOLO(path)`, called in a helper method.
    script = (
        "class Wrapper(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.drop = torch.nn.Dropout(0.1)\n\n"
        "    def __call__(self, x):\n"
        "        return self.predict(x)\n\n"
        "    def predict(self, x):\n"
        "        return x\n\n\n"
        "class App:\n"
        "    def configure(self):\n"
        "        self.model = Wrapper()\n\n"
        "    @torch.no_grad()\n"
        "    def image_inference(self, x):\n"
        "        return self.model(x).argmax(1)\n\n"
        "    def run(self, x):\n"
        "        self.configure()\n"
        "        return self.image_inference(x)\n"
    )
    assert check(tmp_path, script) == []


TYPES_PACKAGE = {
    "pkg/__init__.py": "from .types import *\nfrom .layers import *\n",
    "pkg/types.py": "class Tag:\n    def __init__(self, name):\n        self.name = name\n",
    "pkg/layers.py": """\
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.1)

    def forward(self, x):
        return self.drop(self.fc(x))
""",
    "pkg/decoder.py": """\
import torch.nn as nn

from pkg import Tag


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 2)

    @property
    def output_types(self):
        return {"y": Tag("logits")}

    def forward(self, x):
        return self.fc(x)
""",
}


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        # A class re-exported by `from .types import *` in the package's __init__ is
        # found: a plain class, it is no layer (NeMo's neural types).
        ("from pkg.decoder import Decoder as Model", []),
        # ... and a module class re-exported that way is read: its dropout is named.
        ("from pkg import Block as Model", ["(dropout on)"]),
    ],
    ids=["plain-class", "module-class"],
)
def test_names_re_exported_by_star_imports_resolve(tmp_path: Path, model: str, expected: list[str]) -> None:
    script = f"import torch\n{model}\n\n\ndef predict(x):\n    model = Model()\n    with torch.no_grad():\n        return model(x).argmax(1)\n"
    files = {**TYPES_PACKAGE, "predict.py": script}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = lint_files([str(tmp_path / name) for name in files], Config(select=MODES), jobs=1)
    messages = [d.message for result in found for d in result.diagnostics if d.code == "DL301"]
    assert [next(part for part in expected if part in m) for m in messages] == expected


def _lint_tree(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    results = lint_files([str(tmp_path / name) for name in files], Config(select=MODES), jobs=1)
    return [(Path(d.path).relative_to(tmp_path).as_posix(), d.span.line, d.code) for r in results for d in r.diagnostics]


SEQ2SEQ_PACKAGE = {
    "seq2seq/__init__.py": "",
    "seq2seq/models/__init__.py": "from seq2seq import Seq2seq\n",
    "seq2seq/models/seq2seq.py": """\
        import torch.nn as nn


        class Seq2seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.drop = nn.Dropout(0.2)

            def forward(self, x):
                return self.drop(x)
        """,
}


@pytest.mark.parametrize(
    ("package_init", "expected"),
    [
        # Python 2's implicit relative import: `from seq2seq import Seq2seq` inside the
        # package `seq2seq.models` is its sibling module, not the top-level package
        # `seq2seq` (IBM/pytorch-seq2seq).
        ("from seq2seq import Seq2seq\n", [("sample.py", 9, "DL301")]),
        ("from .seq2seq import Seq2seq\n", [("sample.py", 9, "DL301")]),
    ],
    ids=["implicit", "explicit"],
)
def test_python2_implicit_relative_imports_resolve(tmp_path: Path, package_init: str, expected: list[tuple[str, int, str]]) -> None:
    sample = """\
        import torch
        from seq2seq.models import Seq2seq


        def predict(path, batch):
            model = Seq2seq()
            model.load_state_dict(torch.load(path))
            with torch.no_grad():
                return model(batch).argmax(-1)
        """
    files = {**SEQ2SEQ_PACKAGE, "seq2seq/models/__init__.py": package_init, "sample.py": sample}
    assert _lint_tree(tmp_path, files) == expected


@pytest.mark.parametrize(
    ("inner", "expected"),
    [
        # A plain loop inside a loop over test data evaluates too.
        ("for s in range(x.shape[0]):\n        pred = net(x[s])", [(6, "DL301")]),
        # A training loop inside it (test-time training) still trains.
        ("for s in range(x.shape[0]):\n        net(x[s]).sum().backward()\n        opt.step()", []),
    ],
    ids=["plain-in-test-loop", "training-in-test-loop"],
)
def test_the_innermost_deciding_loop_decides(tmp_path: Path, inner: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
def reconstruct(test_files, path, opt):
    net = Net()
    net.load_state_dict(torch.load(path))
    for x in test_files:
    {textwrap.indent(inner, "    ")}
"""
    assert check(tmp_path, script) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # The parts of an existing model keep its mode: eval was called before.
        ("nn.Sequential(*list(net.children())[:-1])", []),
        # A new container of new layers starts in training mode.
        ("nn.Sequential(*[nn.Linear(8, 8), nn.Dropout(0.1)])", [(10, "DL301")]),
    ],
    ids=["children-of-eval-model", "new-layers"],
)
def test_a_container_of_a_models_children_keeps_its_mode(tmp_path: Path, head: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
import torch.nn as nn


def features(path, batch):
    net = Net()
    net.load_state_dict(torch.load(path))
    net.eval()
    trunk = {head}
    with torch.no_grad():
        return trunk(batch).argmax(1)
"""
    assert check(tmp_path, script) == expected


def test_a_class_named_with_a_leading_underscore_is_built(tmp_path: Path) -> None:
    script = """\
class _Evaluator:
    def __init__(self, model):
        self.model = model

    @torch.no_grad()
    def evaluate(self, batch):
        return self.model(batch).argmax(1)


def main(path, batch):
    net = Net()
    net.load_state_dict(torch.load(path))
    return _Evaluator(net).evaluate(batch)
"""
    assert check(tmp_path, script) == [(13, "DL301")]


@pytest.mark.parametrize(
    ("end_of_train", "expected"),
    [
        # `trainer.train(model, data)` is the trainer's method, not nn.Module.train: what it
        # does to the model (eval at its end) is followed.
        ("model.eval()", []),
        ("pass", [(12, "DL301")]),
    ],
    ids=["trainer-evals", "trainer-leaves-training"],
)
def test_a_trainers_train_method_is_its_own(tmp_path: Path, end_of_train: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
class Trainer:
    def train(self, model, data):
        for x in data:
            model(x).sum().backward()
        {end_of_train}


def main(data, x):
    model = Net()
    Trainer().train(model, data)
    with torch.no_grad():
        return model(x).argmax(-1)
"""
    assert check(tmp_path, script) == expected


NESTED = """\
def train(train_loader, valid_loader, epochs, run):
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def _trainprocess():
        for epoch in range(epochs):
            model.train()
            for x, y in train_loader:
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()
            {switch}
            with torch.no_grad():
                for x, y in valid_loader:
                    correct = (model(x).argmax(1) == y).sum().item()
            if epoch > 3:
                return correct

    {call}
"""


@pytest.mark.parametrize(
    ("switch", "call", "expected"),
    [
        # A nested function runs where it is called (MultiBench's `_trainprocess`), and
        # where it is handed to a call that may run it.
        ("pass", "_trainprocess()", [(15, "DL301")]),
        ("pass", "run(_trainprocess, [model])", [(15, "DL301")]),
        ("model.eval()", "_trainprocess()", []),
        # Defined and never run, it does nothing.
        ("pass", "pass", []),
    ],
    ids=["called", "handed-on", "called-with-eval", "not-called"],
)
def test_nested_functions_run_where_they_are_called(
    tmp_path: Path, switch: str, call: str, expected: list[tuple[int, str]]
) -> None:
    assert check(tmp_path, NESTED.format(switch=switch, call=call)) == expected


def test_a_return_in_a_nested_function_ends_only_it(tmp_path: Path) -> None:
    script = """\
def main(path, batch):
    model = Net()
    model.load_state_dict(torch.load(path))

    def prepare(m):
        m.eval()
        return m

    prepare(model)
    with torch.no_grad():
        first = model(batch).argmax(1)
    model.train()
    with torch.no_grad():
        return first, model(batch).argmax(1)
"""
    assert check(tmp_path, script) == [(14, "DL301")]


SAME_STEM_HELPER = """\
    import torch


    def validate(model, loader):
        model.eval()
        with torch.no_grad():
            acc = sum((model(x).argmax(1) == y).sum().item() for x, y in loader)
        {after}
        return acc
    """
SAME_STEM_MAIN = """\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    {helper}

    def run(train_loader, val_loader):
        model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Linear(8, 2))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        model.train()
        for epoch in range(3):
            for x, y in train_loader:
                optimizer.zero_grad()
                F.cross_entropy(model(x), y).backward()
                optimizer.step()
            print(validate(model, val_loader))
    """


@pytest.mark.parametrize(
    ("own_after", "other_after", "expected"),
    [
        # Scripts outside any package share a module name (`mnist/train.py` and
        # `rnn/train.py`): each calls its own `validate`, never the other's.
        ("model.train()", "pass", []),
        ("pass", "model.train()", [("b/train.py", 22, "DL302")]),
    ],
    ids=["own-helper-restores", "own-helper-leaves-eval"],
)
def test_files_that_share_a_module_name_keep_their_own_functions(
    tmp_path: Path, own_after: str, other_after: str, expected: list[tuple[str, int, str]]
) -> None:
    def script(after: str) -> str:
        return textwrap.dedent(SAME_STEM_MAIN).replace("{helper}", textwrap.dedent(SAME_STEM_HELPER.format(after=after)))

    files = {"a/train.py": script(other_after), "b/train.py": script(own_after)}
    found = _lint_tree(tmp_path, files)
    assert [f for f in found if f[0] == "b/train.py"] == expected


AFTER_NO_GRAD = """\
def classify(clips, path, student, opt):
    model = Net()
    model.load_state_dict(torch.load(path))
    model.train()
    for clip in clips:
        with torch.no_grad():
            outputs = model(clip)
        {after}
"""


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # The block's results turned into predictions after it: an evaluation
        # (jfzhang95/pytorch-video-recognition's inference.py).
        ("probs = torch.softmax(outputs, dim=1)\n        print(probs.argmax(1))", [(7, "DL301")]),
        # Results only stored are no evaluation that can be told from the code.
        ("torch.save(outputs, 'features.pt')", []),
        # In a scope that takes a training step, the block's results feed the training
        # (a teacher's targets): not an evaluation.
        (
            "loss = F.mse_loss(student(clip), outputs)\n        loss.backward()\n        opt.step()",
            [],
        ),
    ],
    ids=["predictions-after", "stored", "targets-of-a-step"],
)
def test_predictions_after_a_no_grad_block_evaluate(tmp_path: Path, after: str, expected: list[tuple[int, str]]) -> None:
    assert check(tmp_path, AFTER_NO_GRAD.format(after=after)) == expected


def test_no_grad_results_that_a_step_uses_are_no_evaluation(tmp_path: Path) -> None:
    script = """\
def distill(path, x, student, opt):
    teacher = Net()
    teacher.load_state_dict(torch.load(path))
    teacher.train()
    with torch.no_grad():
        soft = teacher(x)
    loss = F.kl_div(student(x).log_softmax(1), soft.softmax(1))
    loss.backward()
    opt.step()
"""
    assert check(tmp_path, script) == []


def test_a_plain_loop_inside_a_training_loop_that_takes_no_step_does_not_train(tmp_path: Path) -> None:
    # The validation pass over `loaders["val"]` (not named like held-out data) reuses the
    # name `loss` of the training step: it is no training step in eval mode.
    script = """\
def main(loaders, epochs):
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in range(epochs):
        net.train()
        for x, y in loaders["train"]:
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        for x, y in loaders["val"]:
            out = net(x)
            loss = F.cross_entropy(out, y)
            print(loss.item(), (out.argmax(1) == y).float().mean())
"""
    assert check(tmp_path, script) == []


@pytest.mark.parametrize(
    ("helper", "fires"),
    [
        # A helper that gives back the model it gets keeps it one object with the
        # caller's: its mode and what happens to it are followed.
        ("def load(model, path):\n    model.load_state_dict(torch.load(path))\n    return model\n", True),
        ("def load(model, path):\n    model.load_state_dict(torch.load(path))\n    return model.to('cuda')\n", True),
        ("def load(model, path):\n    model.load_state_dict(torch.load(path))\n    model.eval()\n    return model\n", False),
        # One that returns something else gives an object of its own, in a mode not known.
        ("def load(model, path):\n    return torch.load(path)\n", False),
    ],
    ids=["returns-argument", "returns-moved-argument", "returns-evaluated-argument", "returns-other"],
)
def test_a_helper_that_returns_its_argument_keeps_the_model(tmp_path: Path, helper: str, fires: bool) -> None:
    script = helper + "\n\ndef predict(path, batch):\n    model = load(Net(), path)\n    with torch.no_grad():\n        return model(batch).argmax(1)\n"
    evaluation = script.splitlines().index("        return model(batch).argmax(1)") + 1
    assert check(tmp_path, script) == ([(evaluation, "DL301")] if fires else [])


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        # The caller's flag chooses the mode, as `model.train(training)` would (timm's
        # onnx_export(..., training=False)).
        ("training", []),
        # A flag of the function's own is no choice of the caller's: both branches count.
        ("debug", [(10, "DL301")]),
    ],
    ids=["parameter-flag", "local-flag"],
)
def test_a_mode_chosen_by_a_parameter_is_the_callers(tmp_path: Path, test: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
def export(path, x, training=False):
    debug = path.endswith(".dbg")
    model = Net()
    model.load_state_dict(torch.load(path))
    if {test}:
        model.train()
    else:
        model.eval()
    with torch.inference_mode():
        out = model(x).argmax(1)
    return out
"""
    assert check(tmp_path, script) == expected


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        # The parts a caller gives (MultiBench's `MMDL(encoders, fusion, head)`) are
        # layers the run cannot see: evaluating in training mode may run their dropout.
        ("nn.ModuleList(encoders)", [(17, "DL301")]),
        ("nn.Sequential(*encoders)", [(17, "DL301")]),
        # Known layers without dropout or batch norm behave the same in both modes.
        ("nn.ModuleList([nn.Linear(8, 8)])", []),
    ],
    ids=["list-of-given", "sequential-of-given", "known-layers"],
)
def test_a_container_of_given_parts_holds_unseen_layers(tmp_path: Path, container: str, expected: list[tuple[int, str]]) -> None:
    script = f"""\
import torch.nn as nn


class Fusion(nn.Module):
    def __init__(self, encoders):
        super().__init__()
        self.encoders = {container}

    def forward(self, x):
        return sum(encoder(x) for encoder in self.encoders)


def validate(encoders, batch):
    model = Fusion(encoders)
    model.train()
    with torch.no_grad():
        return model(batch).argmax(1)
"""
    assert check(tmp_path, script) == expected


def test_a_nested_functions_parameters_do_not_rebind_the_enclosing_names(tmp_path: Path) -> None:
    script = """\
def main(path, batch):
    model = Net()
    model.load_state_dict(torch.load(path))
    other = Net()

    def prepare(model):
        model.eval()

    prepare(other)
    with torch.no_grad():
        return model(batch).argmax(1), other(batch).argmax(1)
"""
    # `prepare(other)` switches `other`; the enclosing `model` is still in training mode.
    assert check(tmp_path, script) == [(11, "DL301")]
