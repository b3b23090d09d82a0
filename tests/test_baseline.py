"""``--baseline FILE``: record today's findings, then fail only on new ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint.cli import main

MODEL = """\
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
"""

TRAIN = """\
from models import Net

model = Net()
model.eval
"""


def run(*args: str, stdin: str = "") -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, ["check", "--no-cache", *args], input=stdin, catch_exceptions=False)


def codes(result: Result) -> list[tuple[str, str, int]]:
    return [(r["path"], r["code"], r["line"]) for r in json.loads(result.stdout)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "models.py").write_text(MODEL, encoding="utf-8")
    (tmp_path / "src" / "train.py").write_text(TRAIN, encoding="utf-8")
    return tmp_path


def _record(project: Path) -> Path:
    result = run("src", "--baseline", "baseline.json", "--write-baseline")
    assert result.exit_code == 0, result.stderr
    assert "Wrote 3 findings to the baseline baseline.json." in result.stderr
    assert result.stdout == "No problems found in 2 files.\n"
    return project / "baseline.json"


def test_the_baseline_records_file_code_and_line_text(project: Path) -> None:
    data = json.loads(_record(project).read_text(encoding="utf-8"))
    assert data == {
        "version": 1,
        "findings": [
            {"path": "src/models.py", "code": "DL202", "source": "self.drop = nn.Dropout(p=0.8)", "count": 1},
            {"path": "src/models.py", "code": "DL401", "source": "x = F.dropout(self.fc(x), 0.5)", "count": 1},
            {"path": "src/train.py", "code": "DL304", "source": "model.eval", "count": 1},
        ],
    }


def test_a_recorded_run_is_clean_and_a_new_finding_fails(project: Path) -> None:
    _record(project)
    clean = run("src", "--baseline", "baseline.json")
    assert clean.exit_code == 0
    assert clean.stdout == "No problems found in 2 files.\n"
    assert "3 findings in the baseline not shown" in clean.stderr
    (project / "src" / "train.py").write_text(TRAIN + "model.train\n", encoding="utf-8")
    new = run("src", "--baseline", "baseline.json", "--format", "json")
    assert new.exit_code == 1
    assert codes(new) == [("src/train.py", "DL304", 5)]


def test_edits_elsewhere_keep_findings_matched(project: Path) -> None:
    _record(project)
    shifted = "# a comment\n\n" + MODEL.replace("        super().__init__()\n", "        super().__init__()\n        self.extra = 1\n")
    (project / "src" / "models.py").write_text(shifted, encoding="utf-8")
    result = run("src", "--baseline", "baseline.json", "--format", "json")
    assert result.exit_code == 0 and codes(result) == []


def test_editing_the_line_itself_makes_the_finding_new(project: Path) -> None:
    _record(project)
    models = project / "src" / "models.py"
    models.write_text(MODEL.replace("nn.Dropout(p=0.8)", "nn.Dropout(p=0.9)"), encoding="utf-8")
    result = run("src", "--baseline", "baseline.json", "--format", "json")
    assert codes(result) == [("src/models.py", "DL202", 9)]


def test_a_second_copy_of_a_recorded_line_is_new(project: Path) -> None:
    _record(project)
    (project / "src" / "train.py").write_text(TRAIN + "model.eval\n", encoding="utf-8")
    result = run("src", "--baseline", "baseline.json", "--format", "json")
    assert codes(result) == [("src/train.py", "DL304", 5)]


def test_paths_are_relative_to_the_baseline_not_the_working_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(project)
    monkeypatch.chdir(project / "src")
    result = run(".", "--baseline", "../baseline.json", "--format", "json")
    assert result.exit_code == 0 and codes(result) == []
    (project / "src" / "other.py").write_text(TRAIN, encoding="utf-8")  # the same lines in another file
    other = run(".", "--baseline", "../baseline.json", "--format", "json")
    assert codes(other) == [("other.py", "DL304", 4)]


def test_fixed_findings_are_noted_as_gone(project: Path) -> None:
    _record(project)
    (project / "src" / "train.py").write_text(TRAIN.replace("model.eval", "model.eval()"), encoding="utf-8")
    result = run("src", "--baseline", "baseline.json")
    assert result.exit_code == 0
    assert "2 findings in the baseline not shown; 1 it records no longer occur" in result.stderr
    # A run over part of the project does not call the other files' entries gone.
    part = run("src/models.py", "--baseline", "baseline.json")
    assert "no longer occur" not in part.stderr


def test_a_file_that_does_not_parse_is_never_baselined(project: Path) -> None:
    (project / "src" / "broken.py").write_text("def f(:\n", encoding="utf-8")
    written = run("src", "--baseline", "baseline.json", "--write-baseline", "--format", "json")
    assert codes(written) == [("src/broken.py", "DL900", 1)]
    assert written.exit_code == 1
    recorded = json.loads((project / "baseline.json").read_text(encoding="utf-8"))["findings"]
    assert "DL900" not in {entry["code"] for entry in recorded}


def test_the_baseline_applies_to_stdin_and_to_statistics(project: Path) -> None:
    _record(project)
    piped = run("-", "--stdin-filename", "src/train.py", "--baseline", "baseline.json", "--format", "json", stdin=TRAIN)
    assert piped.exit_code == 0 and codes(piped) == []
    stats = run("src", "--baseline", "baseline.json", "--statistics", "-q")
    assert stats.stdout == ""


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such baseline file: baseline.json"),
        ("{not json", "is not valid JSON"),
        ('{"version": 2, "findings": []}', "is not a dropout-lint baseline"),
        ('{"version": 1, "findings": [{"path": "a.py", "code": "DL401"}]}', "has an invalid entry"),
        ('{"version": 1, "findings": [{"path": "a.py", "code": "DL401", "source": "x", "count": 0}]}', "has an invalid entry"),
    ],
)
def test_a_bad_baseline_is_a_usage_error(project: Path, content: str | None, message: str) -> None:
    if content is not None:
        (project / "baseline.json").write_text(content, encoding="utf-8")
    result = run("src", "--baseline", "baseline.json")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_write_baseline_needs_the_file(project: Path) -> None:
    result = run("src", "--write-baseline")
    assert result.exit_code == 2
    assert "--write-baseline needs --baseline FILE" in result.stderr
    assert not list(project.glob("*.json"))
