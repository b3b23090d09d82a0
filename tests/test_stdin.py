"""``dropout-lint check -``: the source on stdin, named by ``--stdin-filename``, as editor
integrations call it. It must give what a run on the file itself gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint.cli import main

TRAIN = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(p=0.8)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5)
        return x + self.drop(x)


model = Net()
model.eval
"""


def run(*args: str, stdin: bytes = b"") -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), input=stdin, catch_exceptions=False)


def rows(result: Result) -> list[tuple[str, str, int, int]]:
    return [(r["path"], r["code"], r["line"], r["column"]) for r in json.loads(result.stdout)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    return tmp_path


def test_stdin_gives_the_findings_of_the_file(project: Path) -> None:
    from_file = run("check", "train.py", "--no-cache", "--format", "json")
    from_stdin = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=TRAIN.encode())
    assert from_stdin.exit_code == from_file.exit_code == 1
    assert from_stdin.stdout == from_file.stdout
    assert [code for _, code, _, _ in rows(from_stdin)] == ["DL202", "DL401", "DL304"]


def test_the_text_report_names_the_stdin_filename(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "train.py", stdin=TRAIN.encode())
    assert "train.py:12:13: DL401" in result.stdout
    assert "12 |         x = F.dropout(self.fc(x), 0.5)" in result.stdout
    assert "in 1 of 1 file." in result.stdout


def test_without_a_filename_the_path_is_a_dash(project: Path) -> None:
    result = run("check", "-", "--format", "json", stdin=TRAIN.encode())
    assert {path for path, _, _, _ in rows(result)} == {"-"}


def test_a_filename_alone_reads_stdin(project: Path) -> None:
    result = run("check", "--stdin-filename", "other.py", "--format", "json", stdin=b"model.eval\n")
    assert rows(result) == [("other.py", "DL304", 1, 1)]


def test_the_file_on_disk_is_not_read(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=b"import torch\n")
    assert result.exit_code == 0 and rows(result) == []


def test_the_configuration_is_found_from_the_filename(project: Path) -> None:
    sub = project / "sub"
    sub.mkdir()
    (sub / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nignore = ["DL202"]\nper-file-ignores = { "tests/**" = ["DL4"] }\n', encoding="utf-8"
    )
    inside = run("check", "-", "--stdin-filename", "sub/train.py", "--format", "json", stdin=TRAIN.encode())
    assert [code for _, code, _, _ in rows(inside)] == ["DL401", "DL304"]
    ignored = run("check", "-", "--stdin-filename", "sub/tests/train.py", "--format", "json", stdin=TRAIN.encode())
    assert [code for _, code, _, _ in rows(ignored)] == ["DL304"]
    outside = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=TRAIN.encode())
    assert [code for _, code, _, _ in rows(outside)] == ["DL202", "DL401", "DL304"]


def test_noqa_works_on_stdin(project: Path) -> None:
    source = TRAIN.replace("model.eval\n", "model.eval  # noqa: DL304\n")
    result = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=source.encode())
    assert [code for _, code, _, _ in rows(result)] == ["DL202", "DL401"]


def test_a_syntax_error_on_stdin_is_a_dl900(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "broken.py", "--format", "json", stdin=b"def f(:\n")
    assert rows(result) == [("broken.py", "DL900", 1, 7)]
    assert result.exit_code == 1


def test_a_notebook_by_its_suffix(project: Path) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Train"]},
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [], "source": TRAIN.splitlines(keepends=True)},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    data = json.dumps(notebook, indent=1).encode()
    result = run("check", "-", "--stdin-filename", "train.ipynb", "--format", "json", stdin=data)
    found = json.loads(result.stdout)
    assert [(r["path"], r["cell"], r["code"], r["line"]) for r in found] == [
        ("train.ipynb", 2, "DL202", 9),
        ("train.ipynb", 2, "DL401", 12),
        ("train.ipynb", 2, "DL304", 17),
    ]
    # The same bytes named as a Python file are not valid Python.
    as_python = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=data)
    assert [code for _, code, _, _ in rows(as_python)] != [r["code"] for r in found]


def test_fix_prints_the_fixed_source_and_reports_on_stderr(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "train.py", "--fix", stdin=TRAIN.encode())
    assert result.stdout == TRAIN.replace("model.eval\n", "model.eval()\n")
    assert "Fixed 1 problem in 1 file." in result.stderr
    assert "train.py:12:13: DL401" in result.stderr and "DL304" not in result.stderr
    assert result.exit_code == 1  # what is left
    assert (project / "train.py").read_text(encoding="utf-8") == TRAIN  # nothing written


def test_fix_with_nothing_to_fix_prints_the_source_unchanged(project: Path) -> None:
    source = "import torch\n\nx = 1\n"
    result = run("check", "-", "--stdin-filename", "clean.py", "--fix", stdin=source.encode())
    assert result.stdout == source
    assert result.exit_code == 0
    assert "Fixed" not in result.stderr


def test_diff_shows_the_change_and_writes_nothing(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "train.py", "--diff", stdin=TRAIN.encode())
    assert "-model.eval\n+model.eval()\n" in result.stdout
    assert result.stdout.startswith("--- train.py\n+++ train.py\n")
    assert result.exit_code == 1
    assert (project / "train.py").read_text(encoding="utf-8") == TRAIN


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-", "train.py"), "cannot be combined with other paths"),
        (("train.py", "--stdin-filename", "x.py"), "give `-` as the only path"),
    ],
)
def test_stdin_and_paths_do_not_mix(project: Path, args: tuple[str, ...], message: str) -> None:
    result = run("check", *args, stdin=TRAIN.encode())
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
