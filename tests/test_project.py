"""The project index and the forward-order analysis, through small multi-file runs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from dropout_lint.config import Config
from dropout_lint.project.flow import FlowBuilder
from dropout_lint.project.placement import consumers, expand, first_on_input, output_steps
from dropout_lint.project.summary import INPUT, Places
from dropout_lint.runner import lint_files

ALL = Config(select=("ALL",))


def run(tmp_path: Path, files: dict[str, str], select: tuple[str, ...] = ("ALL",)) -> list[tuple[str, int, str]]:
    """Write the files, lint them as one run, and return (path, line, code) findings."""
    paths = []
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(str(path))
    results = lint_files(sorted(paths), Config(select=select), jobs=1)
    return [(Path(d.path).relative_to(tmp_path).as_posix(), d.span.line, d.code) for r in results for d in r.diagnostics]


MODEL = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc(self.drop(x))
"""

TRAIN = """\
import torch
{import_line}


def main(loader):
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for x, y in loader:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
"""


@pytest.mark.parametrize(
    ("layout", "import_line"),
    [
        ({"models.py": MODEL}, "from models import Net"),
        ({"pkg/__init__.py": "", "pkg/models.py": MODEL}, "from .models import Net"),
        ({"pkg/__init__.py": "", "pkg/models.py": MODEL}, "from pkg.models import Net"),
        ({"pkg/__init__.py": "from .models import Net\n", "pkg/models.py": MODEL}, "from pkg import Net"),
        ({"pkg/__init__.py": "", "pkg/models.py": MODEL}, "import pkg.models as m\nNet = m.Net"),
    ],
    ids=["script", "relative", "absolute", "re-export", "module-alias"],
)
def test_a_model_in_one_file_trained_in_another(tmp_path: Path, layout: dict[str, str], import_line: str) -> None:
    train_name = "pkg/train.py" if "pkg/models.py" in layout else "train.py"
    files = {**layout, train_name: TRAIN.format(import_line=import_line)}
    model_path = "pkg/models.py" if "pkg/models.py" in layout else "models.py"
    found = run(tmp_path, files, select=("DL101",))
    if "module-alias" in import_line or "m.Net" in import_line:
        assert found == []  # `Net = m.Net` is an assignment, not an import: not followed
    else:
        assert found == [(model_path, 11, "DL101")]


def test_linting_the_model_alone_knows_no_root(tmp_path: Path) -> None:
    assert run(tmp_path, {"models.py": MODEL}, select=("DL101",)) == []


@pytest.mark.parametrize(
    "usage",
    [
        "model.train()",
        "model.eval()",
        "model.to('cuda')",
        "torch.save(model.state_dict(), 'm.pt')",
        "model.load_state_dict(torch.load('m.pt'))",
        "fit(model, loader)",
        "opt = torch.optim.Adam(model.parameters())",
    ],
)
def test_root_evidence(tmp_path: Path, usage: str) -> None:
    script = f"import torch\nfrom models import Net\n\n\ndef main(loader):\n    model = Net()\n    {usage}\n"
    assert run(tmp_path, {"models.py": MODEL, "train.py": script}, select=("DL101",)) == [("models.py", 11, "DL101")]


@pytest.mark.parametrize(
    "script",
    [
        # Only called: a unit test of a block does that.
        "from models import Net\n\n\ndef check(x):\n    model = Net()\n    return model(x)\n",
        # Trained, but in a test folder.
        "from models import Net\n\n\ndef test_it():\n    model = Net()\n    model.eval()\n",
    ],
    ids=["called-only", "test-file"],
)
def test_no_root_evidence(tmp_path: Path, script: str) -> None:
    name = "tests/test_net.py" if "test_it" in script else "use.py"
    assert run(tmp_path, {"models.py": MODEL, name: script}, select=("DL101",)) == []


def test_a_part_of_another_module_is_never_a_root(tmp_path: Path) -> None:
    wrapper = """\
    import torch
    import torch.nn as nn
    from models import Net


    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = Net()

        def forward(self, x):
            return self.net(x)


    def main():
        net = Net()
        net.eval()
    """
    assert run(tmp_path, {"models.py": MODEL, "wrapper.py": wrapper}, select=("DL101",)) == []


def test_a_part_built_by_a_factory_is_not_a_root(tmp_path: Path) -> None:
    factory = """\
    import torch.nn as nn
    from models import Net


    def make_backbone():
        backbone = Net()
        return backbone


    class Detector(nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = make_backbone()

        def forward(self, x):
            return self.backbone(x)


    def main():
        net = Net()
        net.train()
    """
    assert run(tmp_path, {"models.py": MODEL, "factory.py": factory}, select=("DL101",)) == []


def test_unused_dropout_sees_bases_and_subclasses_in_other_files(tmp_path: Path) -> None:
    base = """\
    import torch.nn as nn


    class Base(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.1)
            self.unused = nn.Dropout(0.1)
    """
    child = """\
    from base import Base


    class Child(Base):
        def forward(self, x):
            return self.drop(x)
    """
    assert run(tmp_path, {"base.py": base, "child.py": child}, select=("DL104",)) == [("base.py", 8, "DL104")]
    # Without the subclass, no forward is known: the base's layers may be used elsewhere.
    assert run(tmp_path, {"base.py": base}, select=("DL104",)) == []


@pytest.mark.parametrize("bases", ["nn.Module, ABC", "nn.Module, Generic[T]", "nn.Module, metaclass=abc.ABCMeta"])
def test_standard_library_bases_hold_no_layers(tmp_path: Path, bases: str) -> None:
    """espnet's loss wrappers and NeMo's mixins derive from abc.ABC: an abstract base class
    or a generic builds no layers, so it neither hides a dead dropout (DL104) nor makes a
    model without dropout mode-dependent (DL301)."""
    source = f"""\
    import abc
    from abc import ABC
    from typing import Generic, TypeVar

    import torch
    import torch.nn as nn

    T = TypeVar("T")


    class Loss({bases}):
        def forward(self, a, b):
            return (a - b).abs().mean()


    class Net({bases}):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)
            self.drop = nn.Dropout(0.1)

        def forward(self, x):
            return self.fc(x)


    def score(a, b):
        loss = Loss()
        with torch.no_grad():
            return loss(a, b).item()
    """
    assert run(tmp_path, {"net.py": source}, select=("DL104", "DL301")) == [("net.py", 20, "DL104")]


def test_unused_dropout_keeps_quiet_for_dynamic_access(tmp_path: Path) -> None:
    source = """\
    import torch.nn as nn


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop0 = nn.Dropout(0.1)
            self.drop1 = nn.Dropout(0.1)

        def forward(self, x):
            for i in range(2):
                x = getattr(self, f"drop{i}")(x)
            return x
    """
    assert run(tmp_path, {"net.py": source}, select=("DL104",)) == []


def test_rates_flow_through_classes_and_files(tmp_path: Path) -> None:
    blocks = """\
    import torch.nn as nn


    class Block(nn.Module):
        def __init__(self, drop=0.1):
            super().__init__()
            self.drop = nn.Dropout(drop)

        def forward(self, x):
            return self.drop(x)


    class Stack(nn.Module):
        def __init__(self, p=0.1):
            super().__init__()
            self.block = Block(drop=p)

        def forward(self, x):
            return self.block(x)
    """
    user = "from blocks import Block, Stack\n\nb = Block(0.7)\ns = Stack(p=1.0)\nok = Stack(p=0.3)\n"
    found = run(tmp_path, {"blocks.py": blocks, "user.py": user}, select=("DL201", "DL202"))
    assert found == [("user.py", 3, "DL202"), ("user.py", 4, "DL201")]


# The forward-order analysis on its own.


def _flow(source: str):  # type: ignore[no-untyped-def]
    module = cst.parse_module(textwrap.dedent(source))
    func = next(s for s in module.body if isinstance(s, cst.FunctionDef))
    numbering = {id(node): i for i, node in enumerate(_walk(module))}
    places = Places("x.py", numbering)

    def qualify(expr: cst.BaseExpression) -> str | None:
        text = module.code_for_node(expr)
        return {"F.relu": "torch.nn.functional.relu", "F.dropout": "torch.nn.functional.dropout"}.get(text)

    return FlowBuilder(func, places, qualify, lambda call: None).build()


def _walk(module: cst.Module):  # type: ignore[no-untyped-def]
    from dropout_lint.analysis.syntax import iter_nodes

    return iter_nodes(module)


def test_flow_follows_values_through_assignments_and_nested_calls() -> None:
    flow = _flow(
        """\
        def forward(self, x):
            x = x.view(-1, 784)
            x = self.fc1(x)
            x = F.relu(x)
            h = self.drop(x)
            return self.fc2(self.drop2(h))
        """
    )
    names = [op.callee for op in flow.ops]
    assert names == [".view", "self.fc1", "F.relu", "self.drop", "self.drop2", "self.fc2"]
    steps, returns = expand(flow, {})
    first = first_on_input(steps)
    assert first is not None and first.name == "self.fc1"  # the reshape is looked through
    (out,) = output_steps(steps, returns) or []
    assert out.name == "self.fc2"
    drop = names.index("self.drop")
    assert [s.name for s in consumers(steps, drop)] == ["self.drop2"]


def test_flow_is_unknown_where_branches_differ() -> None:
    flow = _flow(
        """\
        def forward(self, x):
            if self.pre:
                x = self.drop(x)
            else:
                x = self.norm(x)
            return self.fc(x)
        """
    )
    steps, returns = expand(flow, {})
    assert first_on_input(steps) is None  # the first layer depends on the branch
    fc = next(op for op in flow.ops if op.callee == "self.fc")
    assert fc.inputs == (None,)


def test_flow_loops_over_blocks_and_inlines_helpers() -> None:
    module = cst.parse_module(
        textwrap.dedent(
            """\
            class M:
                def forward(self, x):
                    x = self._features(x)
                    for blk in self.blocks:
                        x = blk(x)
                    return self.head(x)

                def _features(self, x):
                    return self.stem(x)
            """
        )
    )
    cls = module.body[0]
    assert isinstance(cls, cst.ClassDef)
    methods = {s.name.value: s for s in cls.body.body if isinstance(s, cst.FunctionDef)}
    from dropout_lint.analysis.syntax import iter_nodes

    places = Places("x.py", {id(n): i for i, n in enumerate(iter_nodes(module))})
    flow = FlowBuilder(methods["forward"], places, lambda e: None, lambda c: None, {"_features": methods["_features"]}).build()
    assert [(op.callee, op.conditional) for op in flow.ops] == [
        ("self.stem", False),
        ("self.blocks[]", True),
        ("self.head", False),
    ]
    assert flow.ops[0].inputs == (INPUT,)


def test_flow_marks_operations_under_a_test_of_the_mode() -> None:
    flow = _flow(
        """\
        def forward(self, x, perturb=True):
            if self.training:
                x = self.noise(x)
            if perturb:
                x = self.swap(x)
            return self.fc(x)
        """
    )
    gated = {op.callee: op.gated for op in flow.ops}
    assert gated == {"self.noise": True, "self.swap": True, "self.fc": False}


def test_batchnorm1d_says_nothing_about_the_rank(tmp_path: Path) -> None:
    model = """\
    import torch.nn as nn


    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout1d(0.2))

        def forward(self, x):
            return self.net(x)


    class Conv(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Conv1d(8, 16, 3), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout1d(0.2))

        def forward(self, x):
            return self.net(x)
    """
    assert run(tmp_path, {"model.py": model}, select=("DL105",)) == [("model.py", 7, "DL105")]
