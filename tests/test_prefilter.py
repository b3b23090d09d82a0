"""The pre-filter skips only files that cannot give a finding of the selected rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from dropout_lint.catalog import RULES
from dropout_lint.config import Config
from dropout_lint.prefilter import ALWAYS, TOKENS, may_matter
from dropout_lint.runner import lint_files

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(str(p) for p in (ROOT / "fixtures").rglob("*") if p.suffix in (".py", ".ipynb"))
LOCAL = tuple(sorted(TOKENS))


def test_every_rule_is_covered() -> None:
    """A rule the pre-filter does not know would have every file skipped under it."""
    static = {rule.code for rule in RULES if rule.file_check or rule.project_check} | {"DL902"}
    assert static <= set(TOKENS) | ALWAYS
    assert {r.code for r in RULES} - set(TOKENS) - ALWAYS == {"DL501", "DL502", "DL503", "DL504", "DL900", "DL901"}


def test_a_rule_that_reads_other_files_declares_no_words() -> None:
    """Words would let the pre-filter skip a file whose summary the rule's finding in
    another file depends on."""
    assert not [rule.code for rule in RULES if rule.project_check and rule.words is not None]


@pytest.mark.parametrize(
    "select",
    [("ALL",), LOCAL, ("DL201", "DL202", "DL203"), ("DL304", "DL305"), ("DL401", "DL406"), ("DL902",)],
    ids=["all", "local", "rates", "modes", "functional", "noqa"],
)
def test_same_findings_with_and_without_the_prefilter(select: tuple[str, ...]) -> None:
    on = lint_files(FILES, Config(select=select), jobs=1)
    off = lint_files(FILES, Config(select=select, prefilter=False), jobs=1)
    assert on == off


def test_a_rate_passed_from_a_file_that_never_names_dropout(tmp_path: Path) -> None:
    """`Block(drop=0.9)` in user.py is a DL202 because blocks.py hands it to nn.Dropout:
    user.py holds no dropout word and must still be parsed."""
    (tmp_path / "blocks.py").write_text(
        "import torch.nn as nn\n\n\nclass Block(nn.Module):\n    def __init__(self, drop=0.1):\n"
        "        super().__init__()\n        self.drop = nn.Dropout(drop)\n\n"
        "    def forward(self, x):\n        return self.drop(x)\n",
        encoding="utf-8",
    )
    (tmp_path / "user.py").write_text("from blocks import Block\n\nb = Block(0.95)\n", encoding="utf-8")
    files = [str(tmp_path / "blocks.py"), str(tmp_path / "user.py")]
    for select in (("DL202",), ("DL201", "DL202"), ("DL202", "DL304")):
        results = lint_files(files, Config(select=select), jobs=1)
        assert [(Path(r.path).name, d.code) for r in results for d in r.diagnostics] == [("user.py", "DL202")], select


def test_it_skips_files_without_the_words(tmp_path: Path) -> None:
    assert not may_matter("import os\nprint(os.getcwd())\n", frozenset(LOCAL))
    assert may_matter("from torch.nn import Dropout as D\n", frozenset({"DL201"}))
    assert may_matter("y = F.scaled_dot_product_attention(q, k, v, None, p)\n", frozenset({"DL406"}))
    assert may_matter("model . eval\n", frozenset({"DL304"}))
    assert not may_matter("model.evaluate()\n", frozenset({"DL304"}))
    assert may_matter("x = 1  # noqa: DL401\n", frozenset({"DL902"}))
    assert may_matter("import os\n", frozenset({"DL301", "DL401"}))  # a cross-file rule needs every file
    skipped = [path for path in FILES if path.endswith(".py") and not may_matter(Path(path).read_text(encoding="utf-8"), frozenset(LOCAL))]
    assert skipped  # (the fixtures' clean helper modules)


def test_a_file_that_does_not_parse_is_still_reported() -> None:
    from dropout_lint.engine import lint_source

    assert [d.code for d in lint_source("def f(:\n    pass\n", "m.py", Config(select=("DL304", "DL900")))] == ["DL900"]
