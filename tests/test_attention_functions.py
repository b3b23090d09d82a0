"""DL406 through a function of the run that passes its rate on to an attention kernel:
called by name, or stored by ``__init__`` (torchtune's ``self._attention_call =
_sdpa_or_flex_attention()``). The function, often defined in another file, passes its
``dropout_p`` to the kernel, and ``forward`` gives it a rate that never depends on the
mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_project import run

FACTORY = """\
import torch
from torch import nn


def make_attention():
    def attend(q, k, v, mask, dropout_p, is_causal):
        return nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=dropout_p, is_causal=is_causal
        )

    return attend


def attend(q, k, v, dropout_p=0.0):
    return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
"""

MODULE = """\
import torch.nn as nn
{imports}


class Attention(nn.Module):
    def __init__(self, dim, attn_dropout=0.1):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.attn_dropout = attn_dropout
        self._attention_call = {stored}

    def forward(self, x, mask=None):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        {body}
        return out
"""

IMPORT = "from utils import attend, make_attention"
MADE = "self._attention_call(q, k, v, mask=mask, dropout_p={rate}, is_causal=False)"
PLAIN = "self._attention_call(q, k, v, dropout_p={rate})"


def module(
    stored: str = "make_attention()", body: str = "", rate: str = "self.attn_dropout", imports: str = IMPORT
) -> str:
    call = body or (MADE if stored.endswith(")") else PLAIN).format(rate=rate)
    return MODULE.format(imports=imports, stored=stored, body=f"out = {call}")


@pytest.mark.parametrize(
    "stored, body",
    [
        ("make_attention()", ""),  # the function a factory returns
        ("attend", ""),  # the function itself
        ("make_attention()", "self._attention_call(q, k, v, mask, self.attn_dropout, False)"),  # by position
        ("attend", "self._attention_call(q, k, v, 0.1)"),
    ],
)
def test_a_stored_attention_function_given_a_fixed_rate(tmp_path: Path, stored: str, body: str) -> None:
    files = {"utils.py": FACTORY, "model.py": module(stored, body)}
    assert run(tmp_path, files, select=("DL406",)) == [("model.py", 14, "DL406")]


def test_the_factory_in_the_same_file(tmp_path: Path) -> None:
    source = FACTORY + "\n\n" + module(imports="").replace("import torch.nn as nn\n", "", 1)
    found = run(tmp_path, {"model.py": source}, select=("DL406",))
    assert [(path, code) for path, _, code in found] == [("model.py", "DL406")]
    assert source.splitlines()[found[0][1] - 1].strip().startswith("out = self._attention_call(")


def test_the_message_names_the_function_and_the_kernel(tmp_path: Path) -> None:
    from dropout_lint.config import Config
    from dropout_lint.runner import lint_files

    (tmp_path / "utils.py").write_text(FACTORY, encoding="utf-8")
    (tmp_path / "model.py").write_text(module(), encoding="utf-8")
    results = lint_files([str(tmp_path / "model.py"), str(tmp_path / "utils.py")], Config(select=("DL406",)), jobs=1)
    (found,) = [d for r in results for d in r.diagnostics]
    assert found.message == (
        "`dropout_p=self.attn_dropout` of `self._attention_call` is not gated on `self.training`: "
        "`make_attention()` passes it to `nn.functional.scaled_dot_product_attention` (utils.py:7)"
    )


@pytest.mark.parametrize(
    "rate",
    [
        "self.attn_dropout if self.training else 0.0",
        "0.0",
        "p",  # a parameter of forward: the caller decides
    ],
)
def test_a_rate_gated_or_unknown_is_silent(tmp_path: Path, rate: str) -> None:
    source = module(rate=rate).replace("def forward(self, x, mask=None)", "def forward(self, x, mask=None, p=0.0)")
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []


def test_a_local_rate_gated_on_the_mode_is_silent(tmp_path: Path) -> None:
    body = "p = self.attn_dropout if self.training else 0.0\n        out = " + MADE.format(rate="p")
    source = MODULE.format(imports=IMPORT, stored="make_attention()", body=body)
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []


def test_a_call_under_a_test_of_the_mode_is_silent(tmp_path: Path) -> None:
    body = (
        "if self.training:\n            out = " + MADE.format(rate="self.attn_dropout")
        + "\n        else:\n            out = " + MADE.format(rate="0.0")
    )
    source = MODULE.format(imports=IMPORT, stored="make_attention()", body=body)
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []


@pytest.mark.parametrize(
    "factory",
    [
        # The function gives the kernel no rate of the caller's.
        FACTORY.replace("dropout_p=dropout_p", "dropout_p=0.0"),
        # It gates the rate on a flag the caller passes.
        FACTORY.replace("dropout_p=dropout_p", "dropout_p=dropout_p if training else 0.0").replace(
            "dropout_p=0.0)", "dropout_p=0.0, training=False)"
        ).replace("is_causal):", "is_causal, training=False):"),
        FACTORY.replace(
            "        return nn.functional.scaled_dot_product_attention(\n",
            "        if not training:\n            return q\n        return nn.functional.scaled_dot_product_attention(\n",
        ).replace("is_causal):", "is_causal, training=False):"),
        # The rate is changed before the kernel sees it.
        FACTORY.replace("dropout_p, is_causal):\n", "dropout_p, is_causal):\n        dropout_p = 0.0\n"),
    ],
)
def test_a_function_that_does_not_pass_the_rate_on_is_silent(tmp_path: Path, factory: str) -> None:
    assert run(tmp_path, {"utils.py": factory, "model.py": module()}, select=("DL406",)) == []


def test_a_function_outside_the_run_is_silent(tmp_path: Path) -> None:
    source = module(imports="from somewhere_else import make_attention")
    assert run(tmp_path, {"model.py": source}, select=("DL406",)) == []


def test_a_stored_value_changed_elsewhere_is_silent(tmp_path: Path) -> None:
    source = module().replace(
        "    def forward(", "    def use_flex(self):\n        self._attention_call = flex\n\n    def forward("
    )
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []


def test_a_class_that_is_not_a_module_is_silent(tmp_path: Path) -> None:
    source = module().replace("class Attention(nn.Module):", "class Attention:").replace("super().__init__()", "pass")
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []


def test_a_direct_kernel_call_beside_it_is_reported_once(tmp_path: Path) -> None:
    direct = """\


class Direct(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, q, k, v):
        return nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=self.p)
"""
    source = module() + direct
    found = run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("ALL",))
    assert [(path, line, code) for path, line, code in found if code == "DL406"] == [
        ("model.py", 14, "DL406"),
        ("model.py", 24, "DL406"),
    ]


DIRECT = """\
import torch.nn as nn
{imports}


class Attention(nn.Module):
    def __init__(self, dim, attn_dropout=0.1):
        super().__init__()
        self.qkv = nn.Linear(dim, 3 * dim)
        self.attn_dropout = attn_dropout

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        return {call}
"""


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from utils import attend", "attend(q, k, v, dropout_p=self.attn_dropout)"),
        ("from utils import attend", "attend(q, k, v, self.attn_dropout)"),
        ("import utils", "utils.attend(q, k, v, dropout_p=self.attn_dropout)"),
    ],
)
def test_a_function_called_by_name_with_a_fixed_rate(tmp_path: Path, imports: str, call: str) -> None:
    files = {"utils.py": FACTORY, "model.py": DIRECT.format(imports=imports, call=call)}
    assert run(tmp_path, files, select=("DL406",)) == [("model.py", 13, "DL406")]


def test_a_function_called_by_name_in_the_same_file(tmp_path: Path) -> None:
    source = FACTORY + "\n\n" + DIRECT.format(imports="", call="attend(q, k, v, dropout_p=self.attn_dropout)")
    found = run(tmp_path, {"model.py": source}, select=("DL406",))
    assert [(path, code) for path, _, code in found] == [("model.py", "DL406")]
    assert "attend(q, k, v, dropout_p=self.attn_dropout)" in source.splitlines()[found[0][1] - 1]


@pytest.mark.parametrize(
    "imports, call",
    [
        ("from utils import attend", "attend(q, k, v, dropout_p=self.attn_dropout if self.training else 0.0)"),
        ("from utils import attend", "attend(q, k, v)"),  # the default, 0.0
        ("from utils import attend", "attend(q, k, v, dropout_p=0.0)"),
        ("from elsewhere import attend", "attend(q, k, v, dropout_p=self.attn_dropout)"),
        ("from utils import attend", "nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.0)"),
    ],
)
def test_a_function_called_by_name_silent_twins(tmp_path: Path, imports: str, call: str) -> None:
    files = {"utils.py": FACTORY, "model.py": DIRECT.format(imports=imports, call=call)}
    assert run(tmp_path, files, select=("DL406",)) == []


def test_a_function_called_by_name_under_a_test_of_the_mode_is_silent(tmp_path: Path) -> None:
    call = "attend(q, k, v, dropout_p=self.attn_dropout) if self.training else attend(q, k, v)"
    files = {"utils.py": FACTORY, "model.py": DIRECT.format(imports="from utils import attend", call=call)}
    assert run(tmp_path, files, select=("DL406",)) == []


def test_a_function_called_by_name_outside_a_module_is_silent(tmp_path: Path) -> None:
    source = DIRECT.format(imports="from utils import attend", call="attend(q, k, v, dropout_p=self.attn_dropout)")
    source = source.replace("class Attention(nn.Module):", "class Attention:").replace("super().__init__()", "pass")
    assert run(tmp_path, {"utils.py": FACTORY, "model.py": source}, select=("DL406",)) == []
