"""DL106 dropout-argument-ignored: a dropout setting that `__init__` takes and that never
reaches a layer, in the forms found in real libraries, and the many ways code does use
or deliberately discard one, which must stay silent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_project import run

FEED_FORWARD = """\
import torch.nn as nn


class FeedForward(nn.Module):
    def __init__(self, dim, dropout=0.0):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout))

    def forward(self, x):
        return self.net(x)
"""

BLOCK = (
    FEED_FORWARD
    + """

class Block(nn.Module):
    def __init__(self, dim, ff_dropout=0.1{extra}):
        super().__init__()
{body}

    def forward(self, x):
        return self.ff(x)
"""
)


def _block(body: str, extra: str = "") -> str:
    lines = "\n".join(f"        {line}" for line in body.splitlines())
    return BLOCK.format(body=lines, extra=extra)


def _dl106(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    return run(tmp_path, files, select=("DL106",))


def test_an_argument_not_passed_to_its_part(tmp_path: Path) -> None:
    assert _dl106(tmp_path, {"m.py": _block("self.ff = FeedForward(dim)")}) == [("m.py", 14, "DL106")]


def test_a_literal_passed_instead_names_it(tmp_path: Path) -> None:
    source = _block("self.ff = FeedForward(dim, dropout=0.0)").replace("ff_dropout=0.1", "dropout=0.1")
    findings = run(tmp_path, {"m.py": source}, select=("DL106",))
    assert findings == [("m.py", 14, "DL106")]


def test_the_literal_message(tmp_path: Path) -> None:
    from dropout_lint import Config, lint_source

    source = _block("self.ff = FeedForward(dim, dropout=0.0)").replace("ff_dropout=0.1", "dropout=0.1")
    (finding,) = lint_source(source, "m.py", Config(select=("DL106",)))
    assert "`dropout=0.0` (line 16) instead" in finding.message


def test_a_stored_setting_nothing_reads(tmp_path: Path) -> None:
    body = "self.ff = FeedForward(dim)\nself.ff_dropout = ff_dropout"
    assert _dl106(tmp_path, {"m.py": _block(body)}) == [("m.py", 17, "DL106")]


def test_an_argument_of_a_class_built_with_a_nonzero_value(tmp_path: Path) -> None:
    source = _block("self.ff = FeedForward(dim)") + "\n\nclass Model(nn.Module):\n    def __init__(self, p):\n        super().__init__()\n        self.block = Block(8, ff_dropout=p)\n\n    def forward(self, x):\n        return self.block(x)\n"
    assert _dl106(tmp_path, {"m.py": source}) == [("m.py", 14, "DL106")]


@pytest.mark.parametrize(
    "body",
    [
        "self.ff = FeedForward(dim, dropout=ff_dropout)",
        "self.ff = FeedForward(dim, ff_dropout)",
        "self.ff = FeedForward(dim, dropout=ff_dropout * 2)",
        "self.ff = FeedForward(dim, **{'dropout': ff_dropout})",
        "self.ff = functools.partial(FeedForward, dropout=ff_dropout)(dim)",
        "self.ff = FeedForward(dim)\nself.p = ff_dropout\nself.ff.net[2].p = self.p",
        "self.ff = FeedForward(dim)\nself.rate = ff_dropout if ff_dropout else 0.0",
        "self.ff = FeedForward(dim)\nself.config = dict(dropout=ff_dropout)",
        "self.ff = FeedForward(dim)\nfor module in self.ff.modules():\n    module.p = ff_dropout",
        "self.ff = FeedForward(dim)\nself.ff.apply(lambda m: setattr(m, 'p', ff_dropout))",
        "self.ff = FeedForward(dim)\nself.build(**locals())",
        "self.ff = FeedForward(dim)\nself.save_hyperparameters()\nself.p = self.hparams.ff_dropout",
        "self.ff = FeedForward(dim)\ndel ff_dropout  # not supported here",
        "self.ff = FeedForward(dim)\n_ = ff_dropout",
        "self.ff = FeedForward(dim)\nff_dropout  # kept for old configs",
        "# only for training: self.ff = FeedForward(dim, dropout=ff_dropout)\nself.ff = FeedForward(dim)",
    ],
)
def test_uses_and_deliberate_discards_are_silent(tmp_path: Path, body: str) -> None:
    source = "import functools\n" + _block(body)
    assert _dl106(tmp_path, {"m.py": source}) == []


def test_a_stored_setting_read_by_a_subclass_in_another_file(tmp_path: Path) -> None:
    base = _block("self.ff = FeedForward(dim)\nself.ff_dropout = ff_dropout")
    child = """\
import torch.nn.functional as F
from m import Block


class Child(Block):
    def forward(self, x):
        return F.dropout(self.ff(x), self.ff_dropout, self.training)
"""
    assert _dl106(tmp_path, {"m.py": base, "child.py": child}) == []
    assert _dl106(tmp_path, {"m.py": base}) == [("m.py", 17, "DL106")]


def test_a_stored_setting_read_by_the_model_that_holds_it(tmp_path: Path) -> None:
    source = _block("self.ff = FeedForward(dim)\nself.ff_dropout = ff_dropout") + (
        "\n\nclass Model(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.block = Block(8)\n\n    def forward(self, x):\n"
        "        return nn.functional.dropout(self.block(x), self.block.ff_dropout, self.training)\n"
    )
    assert _dl106(tmp_path, {"m.py": source.replace("Block(8)", "Block(8, ff_dropout=0.2)")}) == []


def test_a_stored_setting_under_a_base_outside_the_run_is_silent(tmp_path: Path) -> None:
    """The base's own code may read it (torch's, or a library's)."""
    source = _block("self.ff = FeedForward(dim)\nself.ff_dropout = ff_dropout").replace(
        "class Block(nn.Module)", "class Block(nn.TransformerEncoderLayer)"
    )
    assert _dl106(tmp_path, {"m.py": source}) == []


@pytest.mark.parametrize(
    "body",
    ['"""Not implemented here."""', "...", "raise NotImplementedError", "pass", "return"],
)
def test_an_interface_constructor_is_silent(tmp_path: Path, body: str) -> None:
    source = f"""\
import torch.nn as nn


class Base(nn.Module):
    def __init__(self, dim, dropout=0.1):
        {body}
"""
    assert _dl106(tmp_path, {"m.py": source}) == []


def test_a_base_whose_subclasses_take_the_argument_is_silent(tmp_path: Path) -> None:
    source = """\
import torch.nn as nn


class Base(nn.Module):
    def __init__(self, dim, dropout=0.1):
        super().__init__()
        self.dim = dim


class Child(Base):
    def __init__(self, dim, dropout=0.1):
        super().__init__(dim, dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(x)
"""
    assert _dl106(tmp_path, {"m.py": source}) == []


@pytest.mark.parametrize(
    ("signature", "docstring"),
    [
        ("dim, ff_dropout=0.1,  # unused", ""),
        ("dim, ff_dropout=0.1,  # deprecated", ""),
        ("dim, ff_dropout=0.1", "Args:\n            ff_dropout: not used, kept for compatibility."),
        ("dim, ff_dropout=0.1", "Args:\n            ff_dropout (float): ignored.\n            dim: width."),
        ("dim, _dropout=0.1", ""),
    ],
)
def test_arguments_documented_as_unused_are_silent(tmp_path: Path, signature: str, docstring: str) -> None:
    source = f'''\
import torch.nn as nn


class Block(nn.Module):
    def __init__(
        self, {signature}
    ):
        """{docstring}"""
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x)
'''
    assert _dl106(tmp_path, {"m.py": source}) == []


def test_a_conditional_ignored_in_the_docstring_is_no_excuse(tmp_path: Path) -> None:
    source = '''\
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, attn_dropout=0.0):
        """
        Args:
            attn_dropout (float): dropout of the attention weights. This argument
                is ignored if self.training is False.
        """
        super().__init__()
        if attn_dropout < 0 or attn_dropout > 1:
            raise ValueError(f"attn_dropout ({attn_dropout}) must be between 0 and 1")
        assert attn_dropout < 1
        self.attn_dropout = attn_dropout
        self.qkv = nn.Linear(dim, dim * 3)

    def forward(self, x):
        return self.qkv(x)
'''
    assert _dl106(tmp_path, {"m.py": source}) == [("m.py", 15, "DL106")]


def test_decorators_that_name_the_argument_or_keep_the_arguments(tmp_path: Path) -> None:
    template = """\
import torch.nn as nn
from lib import deprecated_arg, register_to_config, typechecked


class Block(nn.Module):
    @{decorator}
    def __init__(self, dim, dropout=0.1):
        super().__init__()
        self.fc = nn.Linear(dim, dim)
        self.drop = nn.Dropout({rate})

    def forward(self, x):
        return self.drop(self.fc(x))
"""
    named = template.format(decorator='deprecated_arg("dropout")', rate="0.1")
    kept_and_read = template.format(decorator="register_to_config", rate="self.config.dropout")
    kept_unread = template.format(decorator="register_to_config", rate="0.1")
    type_checked = template.format(decorator="typechecked", rate="0.1")
    assert _dl106(tmp_path, {"a.py": named}) == []
    assert _dl106(tmp_path, {"b.py": kept_and_read}) == []
    assert _dl106(tmp_path, {"c.py": kept_unread}) == [("c.py", 7, "DL106")]
    assert _dl106(tmp_path, {"d.py": type_checked}) == [("d.py", 7, "DL106")]


def test_lightning_hyperparameters(tmp_path: Path) -> None:
    template = """\
import lightning as L
import torch.nn as nn


class Model(L.LightningModule):
    def __init__(self, dim, dropout=0.1):
        super().__init__()
        self.save_hyperparameters()
        {build}

    def forward(self, x):
        return self.net(x)
"""
    read = template.format(build="self.net = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(self.hparams.dropout))")
    whole = template.format(build="self.net = build(**self.hparams)")
    unread = template.format(build="self.net = nn.Linear(dim, dim)")
    assert _dl106(tmp_path, {"a.py": read}) == []
    assert _dl106(tmp_path, {"b.py": whole}) == []
    assert _dl106(tmp_path, {"c.py": unread}) == [("c.py", 6, "DL106")]


def test_zero_wherever_the_run_builds_it_is_silent(tmp_path: Path) -> None:
    """An internal block that ignores a rate every caller leaves at 0 loses nothing; one
    a caller's own argument reaches, or a function's default, is reported."""
    block = _block("self.ff = FeedForward(dim)")
    model = """\
import torch.nn as nn
from m import Block


class Encoder(nn.Module):
    def __init__(self, dropout=0.0):
        super().__init__()
        self.block = Block(8, ff_dropout=dropout)

    def forward(self, x):
        return self.block(x)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = {build}

    def forward(self, x):
        return self.encoder(x)
"""
    silent = {"m.py": block, "model.py": model.format(build="Encoder()")}
    assert _dl106(tmp_path / "a", silent) == []
    given = {"m.py": block, "model.py": model.format(build="Encoder(dropout=0.3)")}
    assert _dl106(tmp_path / "b", given) == [("m.py", 14, "DL106")]
    function = {"m.py": block, "build.py": "from m import Block\n\n\ndef build(p=0.0):\n    return Block(8, ff_dropout=p)\n"}
    assert _dl106(tmp_path / "c", function) == [("m.py", 14, "DL106")]


def test_non_dropout_arguments_and_other_classes_are_silent(tmp_path: Path) -> None:
    source = """\
import torch.nn as nn


class Loader:
    def __init__(self, dropout=0.1):
        self.n = 1


class Block(nn.Module):
    def __init__(self, dim, drop_last=True, drop_first_norm=False):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x)
"""
    assert _dl106(tmp_path, {"m.py": source}) == []
