"""Autofix: ``check --fix``, ``--unsafe-fixes`` and ``--diff``, and the fixer under them."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from dropout_lint import atomic, fixer
from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.diagnostics import Fix, FixSafety, Span
from dropout_lint.engine import lint_source
from dropout_lint.fixer import apply_fixes, fix_text

ALL = Config(select=("ALL",))

BROKEN = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.p = p

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.2)
        return F.scaled_dot_product_attention(x, x, x, dropout_p=self.p)


def evaluate(model, batch):
    model.eval
    model.training = False
    with torch.no_grad():
        return model(batch).argmax(1)
"""

SAFE_FIXED = BROKEN.replace("    model.eval\n", "    model.eval()\n").replace(
    "model.training = False", "model.eval()"
)
ALL_FIXED = SAFE_FIXED.replace("F.dropout(self.fc(x), 0.2)", "F.dropout(self.fc(x), 0.2, training=self.training)").replace(
    "dropout_p=self.p)", "dropout_p=self.p if self.training else 0.0)"
)


def _codes(text: str) -> list[str]:
    return sorted(d.code for d in lint_source(text, "m.py", ALL))


def test_safe_fixes_only_by_default() -> None:
    outcome = fix_text(BROKEN, "m.py", ALL)
    assert outcome.fixed == SAFE_FIXED
    assert outcome.applied == 2
    assert _codes(outcome.fixed) == ["DL401", "DL406"]


def test_unsafe_fixes_too_when_asked() -> None:
    outcome = fix_text(BROKEN, "m.py", ALL, unsafe=True)
    assert outcome.fixed == ALL_FIXED
    assert outcome.applied == 4
    assert _codes(outcome.fixed) == []
    assert fix_text(outcome.fixed, "m.py", ALL, unsafe=True).applied == 0


def test_comments_and_layout_are_kept() -> None:
    source = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(me, x):
        return F.dropout(
            x,  # the features
            0.3,  # the rate
        )
"""
    fixed = fix_text(source, "m.py", ALL, unsafe=True).fixed
    assert fixed == source.replace("0.3,  # the rate\n", "0.3,  # the rate\n            training=me.training,\n")


def test_a_suppressed_finding_is_not_fixed() -> None:
    source = "def f(model):\n    model.eval  # noqa: DL304\n    model.train\n"
    assert fix_text(source, "m.py", ALL).fixed == "def f(model):\n    model.eval  # noqa: DL304\n    model.train()\n"


def test_a_rule_that_is_not_selected_is_not_fixed() -> None:
    source = "def f(model, x):\n    model.eval\n    model.training = True\n    return model(x)\n"
    fixed = fix_text(source, "m.py", Config(select=("DL305",))).fixed
    assert fixed == "def f(model, x):\n    model.eval\n    model.train()\n    return model(x)\n"


def test_non_literal_and_chained_assignments_are_left_alone() -> None:
    source = (
        "def f(model, flag, other, x):\n    model.training = flag\n    model.training = other.training = False\n"
        "    return model(x) + other(x)\n"
    )
    outcome = fix_text(source, "m.py", ALL)
    assert outcome.applied == 0 and outcome.fixed == source
    assert _codes(source) == ["DL305", "DL305", "DL305"]


def test_calls_with_star_arguments_get_no_fix() -> None:
    source = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x, **options):
        return F.dropout(x, 0.3, **options)
"""
    found = lint_source(source, "m.py", ALL)
    assert [d.code for d in found] == []  # `training` may be in **options: no finding at all


def test_overlapping_edits_wait_for_the_next_round() -> None:
    text = "abcdef\n"
    first = Fix("XY", FixSafety.SAFE, "", Span(1, 0, 1, 3))
    overlapping = Fix("Z", FixSafety.SAFE, "", Span(1, 2, 1, 5))
    later = Fix("W", FixSafety.SAFE, "", Span(1, 5, 1, 6))
    assert apply_fixes(text, [later, overlapping, first]) == ("XYdeW\n", 2)


def test_offsets_follow_crlf_and_wide_characters() -> None:
    text = "a = 'é'\r\nmodel.eval\r\n"
    fix = Fix("model.eval()", FixSafety.SAFE, "", Span(2, 0, 2, 10))
    assert apply_fixes(text, [fix]) == ("a = 'é'\r\nmodel.eval()\r\n", 1)


def test_a_fix_that_breaks_the_code_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    source = "def f(model):\n    model.eval\n"
    real = fixer.lint_source

    def broken_fix(text: str, path: str, config: Config) -> list:
        return [
            d.__class__(**{**d.__dict__, "fix": Fix("model.eval(", FixSafety.SAFE, "", d.fix.span)}) if d.fix else d
            for d in real(text, path, config)
        ]

    monkeypatch.setattr(fixer, "lint_source", broken_fix)
    outcome = fix_text(source, "m.py", ALL)
    assert outcome.fixed == source and outcome.applied == 0
    assert outcome.error is not None and "unparsable" in outcome.error
    cst.parse_module(outcome.fixed)


# The command line.


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_fix_then_check_reports_no_fixable_finding_and_a_second_fix_does_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.py", BROKEN.encode())
    runner = CliRunner()
    first = runner.invoke(main, ["check", "--fix", str(path), "--no-show-source"])
    assert first.exit_code == 1  # DL401 and DL406 are left: their fixes are unsafe
    assert "Fixed 2 problems in 1 file." in first.stderr
    assert "[*]" not in first.stdout and "2 more fixable with `--fix --unsafe-fixes`" in first.stdout
    assert path.read_text() == SAFE_FIXED
    second = runner.invoke(main, ["check", "--fix", "--unsafe-fixes", str(path)])
    assert second.exit_code == 0 and path.read_text() == ALL_FIXED
    third = runner.invoke(main, ["check", "--fix", "--unsafe-fixes", str(path)])
    assert third.exit_code == 0 and path.read_text() == ALL_FIXED
    assert "Fixed" not in third.stderr


def test_diff_prints_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.py", BROKEN.encode())
    result = CliRunner().invoke(main, ["check", "--diff", str(path)])
    assert result.exit_code == 1
    assert path.read_text() == BROKEN
    assert "-    model.eval\n-    model.training = False\n+    model.eval()\n+    model.eval()\n" in result.stdout
    assert "Would fix 2 problems in 1 file." in result.stderr
    clean = _write(tmp_path, "clean.py", SAFE_FIXED.encode())
    nothing = CliRunner().invoke(main, ["check", "--diff", str(clean)])
    assert nothing.exit_code == 0 and nothing.stdout == ""


def test_encoding_bom_line_endings_and_permissions_are_kept(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\r\n# caf\xe9\r\ndef f(model):\r\n    model.eval\r\n"
    path = _write(tmp_path, "latin.py", source.encode("latin-1"))
    os.chmod(path, 0o750)
    bom = _write(tmp_path, "bom.py", b"\xef\xbb\xbfdef f(model):\n    model.train\n")
    result = CliRunner().invoke(main, ["check", "--fix", str(path), str(bom)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes() == source.replace("model.eval", "model.eval()").encode("latin-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o750
    assert bom.read_bytes() == b"\xef\xbb\xbfdef f(model):\n    model.train()\n"


def test_an_interrupted_write_leaves_the_original(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, "m.py", BROKEN.encode())

    def interrupted(source: str, target: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fixer.fix_file(str(path), ALL)
    assert path.read_text() == BROKEN
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temporary file left


def test_an_unwritable_file_is_reported_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = _write(folder, "m.py", b"def f(model):\n    model.eval\n")
    other = _write(tmp_path, "n.py", b"def f(model):\n    model.train\n")
    real = tempfile.mkstemp  # what atomic.write_atomic calls when it writes

    def refuse(*args: object, dir: str, **kwargs: object) -> tuple[int, str]:  # noqa: A002 - mkstemp's name
        if Path(dir) == folder:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = CliRunner().invoke(main, ["check", "--fix", str(path), str(other)])
    assert "cannot write the fixed file: Permission denied" in result.stderr
    assert path.read_bytes() == b"def f(model):\n    model.eval\n"
    assert other.read_bytes() == b"def f(model):\n    model.train()\n"
    assert result.exit_code == 1  # the finding that could not be fixed is still reported


def test_fixing_a_copy_of_the_fixtures(tmp_path: Path) -> None:
    """The acceptance run: every fixable finding of the fixtures (files and a notebook)
    fixed; what is left has no fix, every file parses, only reported lines changed, and
    a second run changes nothing."""
    import json
    import shutil

    from dropout_lint.runner import lint_files

    copy = tmp_path / "fixtures"
    shutil.copytree(Path(__file__).resolve().parent.parent / "fixtures", copy)
    files = sorted(str(p) for p in copy.rglob("*") if p.suffix in (".py", ".ipynb"))
    before = {path: Path(path).read_bytes() for path in files}
    fixable = {
        (d.path, d.cell, d.span.line)
        for result in lint_files(files, Config(), jobs=1)
        for d in result.diagnostics
        if d.fix is not None
    }
    assert {cell for _, cell, _ in fixable} >= {None, 3, 6}  # files and the notebook's cells

    runner = CliRunner()
    first = runner.invoke(main, ["check", "--fix", "--unsafe-fixes", "--exit-zero", "-q", *files])
    assert first.exit_code == 0, first.output
    after = {path: Path(path).read_bytes() for path in files}
    left = [d for result in lint_files(files, Config(), jobs=1) for d in result.diagnostics]
    assert [d for d in left if d.fix is not None] == []
    for path in files:
        if path.endswith(".py"):
            cst.parse_module(after[path].decode("utf-8"))
            old, new = before[path].decode().splitlines(), after[path].decode().splitlines()
            assert len(old) == len(new)
            changed = {number for number, (a, b) in enumerate(zip(old, new), start=1) if a != b}
            assert changed <= {line for p, _, line in fixable if p == path}, path
    notebook = next(path for path in files if path.endswith(".ipynb"))
    old_cells = json.loads(before[notebook])["cells"]
    new_cells = json.loads(after[notebook])["cells"]
    assert [c.get("outputs") for c in old_cells] == [c.get("outputs") for c in new_cells]
    assert [i + 1 for i, (a, b) in enumerate(zip(old_cells, new_cells)) if a != b] == [3, 6]

    second = runner.invoke(main, ["check", "--fix", "--unsafe-fixes", "--exit-zero", "-q", *files])
    assert second.exit_code == 0
    assert {path: Path(path).read_bytes() for path in files} == after
