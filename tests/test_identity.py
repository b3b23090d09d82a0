"""Every file of a run is its own module: files that share a module name (the
``main.py`` of every example folder, a script beside its notebook) keep their own
classes and functions, and imports find the file Python would import."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from dropout_lint.config import Config
from dropout_lint.project.identity import identify, plain
from dropout_lint.runner import lint_files
from tests.test_project import MODEL

Finding = tuple[str, int, str]


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text if name.endswith(".ipynb") else textwrap.dedent(text), encoding="utf-8")


def lint(tmp_path: Path, names: Sequence[str]) -> set[Finding]:
    results = lint_files(sorted(str(tmp_path / name) for name in names), Config(select=("ALL",)), jobs=1)
    return {(Path(os.path.abspath(d.path)).relative_to(tmp_path).as_posix(), d.span.line, d.code) for r in results for d in r.diagnostics}


def combined_and_separate(tmp_path: Path, files: dict[str, str], groups: Sequence[Sequence[str]]) -> tuple[set[Finding], set[Finding]]:
    """The findings of one run over all files, and the union of the runs over each group."""
    write(tmp_path, files)
    separate: set[Finding] = set()
    for group in groups:
        separate |= lint(tmp_path, group)
    return lint(tmp_path, list(files)), separate


# An example script in the style of pytorch/examples: its model ends with dropout
# (DL102), and it evaluates after training without `model.eval()` (DL301).
MNIST = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = {first}
        self.dropout = nn.Dropout(0.5)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = self.fc2(x)
        return self.dropout(x)


def train(model, loader, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        F.nll_loss(model(x), y).backward()
        optimizer.step()


def test(model, loader):
    with torch.no_grad():
        for x, y in loader:
            print(model(x).argmax(1).eq(y).sum())


def main(loader):
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for epoch in range(3):
        train(model, loader, optimizer)
        test(model, loader)
    torch.save(model.state_dict(), "model.pt")
"""


def test_same_stem_scripts_in_sibling_folders_keep_their_findings(tmp_path: Path) -> None:
    files = {
        "mnist/main.py": MNIST.format(first="nn.Linear(784, 128)"),
        "mnist_rnn/main.py": MNIST.format(first="nn.Linear(28, 128)"),
    }
    combined, separate = combined_and_separate(tmp_path, files, [["mnist/main.py"], ["mnist_rnn/main.py"]])
    for name in files:
        assert {(name, 16, "DL102"), (name, 38, "DL301")} <= separate
    assert combined == separate


# A model whose dropout sits on its input (DL101, once a script trains it) and one
# without dropout; each folder trains its own `Net`.
DROPPING = MODEL

PLAIN = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(x)
"""

TRAIN = """\
import torch
{import_line}


def main(loader, val):
    model = {build}()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    with torch.no_grad():
        print(model(val).argmax(1))
"""


@pytest.mark.parametrize(
    ("package", "import_a", "import_b", "build"),
    [
        (False, "from models import Net", "from models import Net", "Net"),
        (False, "import models", "import models", "models.Net"),
        (True, "from .models import Net", "from .models import Net", "Net"),
        (True, "from pkg_a.models import Net", "from pkg_b.models import Net", "Net"),
        (True, "from . import models", "from . import models", "models.Net"),
        (True, "import pkg_a.models as models", "import pkg_b.models as models", "models.Net"),
        (True, "from models import Net", "from models import Net", "Net"),
    ],
    ids=["script-folders", "script-module-import", "relative", "absolute", "relative-module", "dotted-import", "script-in-package"],
)
def test_each_folder_trains_its_own_models_module(
    tmp_path: Path, package: bool, import_a: str, import_b: str, build: str
) -> None:
    files = {
        "pkg_a/models.py": DROPPING,
        "pkg_a/train.py": TRAIN.format(import_line=import_a, build=build),
        "pkg_b/models.py": PLAIN,
        "pkg_b/train.py": TRAIN.format(import_line=import_b, build=build),
    }
    if package:
        files |= {"pkg_a/__init__.py": "", "pkg_b/__init__.py": ""}
    groups = [[name for name in files if name.startswith(folder)] for folder in ("pkg_a/", "pkg_b/")]
    combined, separate = combined_and_separate(tmp_path, files, groups)
    # `pkg_a`'s model drops its input and is evaluated in training mode; `pkg_b`'s has
    # no dropout, and its evaluation in training mode changes nothing.
    assert ("pkg_a/models.py", 11, "DL101") in separate
    assert [f for f in separate if f[0] == "pkg_a/train.py" and f[2] == "DL301"]
    assert not [f for f in separate if f[0].startswith("pkg_b/")]
    assert combined == separate


def test_a_finding_in_a_model_lands_in_the_file_of_the_trained_class(tmp_path: Path) -> None:
    # Both folders' models drop their input; only `b`'s is trained, so only its
    # DL101 is reported, in `b/models.py`.
    files = {
        "a/models.py": "# the first folder's model\n\n" + DROPPING,
        "b/models.py": DROPPING,
        "b/train.py": TRAIN.format(import_line="from models import Net", build="Net"),
    }
    combined, separate = combined_and_separate(tmp_path, files, [["a/models.py"], ["b/models.py", "b/train.py"]])
    assert ("b/models.py", 11, "DL101") in separate
    assert not [f for f in combined if f[0] == "a/models.py"]
    assert combined == separate


def _notebook(source: str) -> str:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": textwrap.dedent(source)}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_a_script_and_its_notebook_of_the_same_stem_keep_their_findings(tmp_path: Path) -> None:
    files = {
        "503_dropout.py": MNIST.format(first="nn.Linear(784, 128)"),
        "503_dropout.ipynb": _notebook(MNIST.format(first="nn.Linear(28, 128)")),
    }
    combined, separate = combined_and_separate(tmp_path, files, [["503_dropout.py"], ["503_dropout.ipynb"]])
    for name in files:
        assert {(name, 16, "DL102"), (name, 38, "DL301")} <= separate
    assert combined == separate


NESTED = {
    "proj/__init__.py": "",
    "proj/a/__init__.py": "",
    "proj/a/layers.py": DROPPING,
    "proj/b/__init__.py": "",
    "proj/b/train.py": TRAIN.format(import_line="from ..a.layers import Net", build="Net"),
    "other/__init__.py": "",
    "other/a/__init__.py": "",
    "other/a/layers.py": PLAIN,
}


def test_a_parent_relative_import_reaches_the_package_above(tmp_path: Path) -> None:
    write(tmp_path, NESTED)
    found = lint(tmp_path, list(NESTED))
    assert ("proj/a/layers.py", 11, "DL101") in found
    assert not [f for f in found if f[0].startswith("other/")]


@pytest.mark.parametrize(
    ("layout", "script"),
    [
        ({"src/mypkg/__init__.py": "", "src/mypkg/models.py": DROPPING}, "scripts/train.py"),
        ({"mypkg/__init__.py": "", "mypkg/models.py": DROPPING}, "scripts/train.py"),
        ({"mypkg/__init__.py": "", "mypkg/models.py": DROPPING}, "train.py"),
        ({"mypkg/models.py": DROPPING}, "train.py"),
    ],
    ids=["src-layout", "package-at-the-root", "script-beside-the-package", "namespace-package"],
)
def test_absolute_imports_reach_packages_elsewhere_in_the_project(tmp_path: Path, layout: dict[str, str], script: str) -> None:
    files = {**layout, script: TRAIN.format(import_line="import mypkg.models", build="mypkg.models.Net")}
    write(tmp_path, files)
    model = next(name for name in layout if name.endswith("models.py"))
    assert (model, 11, "DL101") in lint(tmp_path, list(files))


def test_a_sibling_module_wins_over_one_of_the_same_name_elsewhere(tmp_path: Path) -> None:
    # `from models import Net` in `b/train.py` is `b/models.py`, whatever else is called
    # `models`; a script in a third folder with no `models.py` of its own cannot tell
    # which one it means: its model is one the run cannot see.
    files = {
        "a/models.py": DROPPING,
        "b/models.py": PLAIN,
        "b/train.py": TRAIN.format(import_line="from models import Net", build="Net"),
        "c/train.py": TRAIN.format(import_line="from models import Net", build="Net"),
    }
    write(tmp_path, files)
    assert lint(tmp_path, list(files)) == {("c/train.py", 14, "DL301")}


def test_the_identity_of_a_file(tmp_path: Path) -> None:
    write(tmp_path, {"pkg/__init__.py": "", "pkg/sub/__init__.py": "", "pkg/sub/models.py": "", "tools/main.py": "", "tools/main.ipynb": "{}"})
    models = identify(str(tmp_path / "pkg/sub/models.py"))
    package = identify(str(tmp_path / "pkg/sub/__init__.py"))
    script = identify(str(tmp_path / "tools/main.py"))
    notebook = identify(str(tmp_path / "tools/main.ipynb"))
    assert (models.dotted, models.root) == ("pkg.sub.models", str(tmp_path))
    assert (package.dotted, package.root) == ("pkg.sub", str(tmp_path))
    assert (script.dotted, script.root) == ("main", str(tmp_path / "tools"))
    assert plain(models.module) == "pkg.sub.models" and plain(script.module) == "main"
    assert models.module.endswith(".pkg.sub.models") and models.module != package.module
    assert len({models.module, package.module, script.module, notebook.module}) == 4
    assert notebook.root == script.root and not notebook.importable and script.importable
    assert identify(str(tmp_path / "tools/main.py")) == script
