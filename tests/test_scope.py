"""Named files are reported, their project is the context: ``dropout-lint check train.py``
finds what a run over the whole project finds in train.py, whichever other files are
named with it, as a pre-commit hook names only the staged ones."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint import runner
from dropout_lint.cli import main
from dropout_lint.config import Config, load_config
from dropout_lint.scope import in_context, project_root

MODELS = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(10, 2)

    def forward(self, x):
        return self.out(self.drop(self.fc(x)))
"""

# DL301 twice, only with models.py in sight (it says Net has dropout); DL304 on its own.
TRAIN = """\
import torch

from models import Net


def evaluate(model, batches):
    return [model(x) for x in batches]


model = Net()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in [(torch.zeros(1, 10), torch.zeros(1, 2))]:
    optimizer.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    optimizer.step()

with torch.no_grad():
    scores = model(torch.zeros(1, 10))
print(evaluate(model, [torch.zeros(1, 10)]))
model.eval
"""

UTILS = """\
def mean(values):
    return sum(values) / len(values)
"""


def run(*args: str, stdin: bytes = b"") -> Result:
    try:
        cli = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        cli = CliRunner()
    return cli.invoke(main, list(args), input=stdin, catch_exceptions=False)


def findings(result: Result) -> list[tuple[str, str, int, int]]:
    assert result.exit_code in (0, 1), result.stdout + result.stderr
    return [(r["path"], r["code"], r["line"], r["column"]) for r in json.loads(result.stdout)]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with a model, its training script and an unrelated helper."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / "models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    (tmp_path / "utils.py").write_text(UTILS, encoding="utf-8")
    return tmp_path


def test_a_named_file_is_analysed_with_its_project(project: Path) -> None:
    everything = findings(run("check", ".", "--no-cache", "--format", "json"))
    in_train = [f for f in everything if f[0] == "train.py"]
    assert [code for _, code, _, _ in in_train].count("DL301") == 2
    alone = findings(run("check", "train.py", "--no-cache", "--format", "json"))
    assert alone == in_train
    # The old behaviour, on request: the model class is out of sight, so no DL301.
    blind = findings(run("check", "train.py", "--no-cache", "--no-project-context", "--format", "json"))
    assert [code for _, code, _, _ in blind] == ["DL304"]


@pytest.mark.parametrize("cache", [True, False])
def test_findings_do_not_depend_on_the_other_files_named(project: Path, cache: bool) -> None:
    options = ["--format", "json"] if cache else ["--no-cache", "--format", "json"]
    everything = findings(run("check", ".", *options))
    names = ["models.py", "train.py", "utils.py"]
    for count in range(1, len(names) + 1):
        for named in itertools.permutations(names, count):
            got = findings(run("check", *named, *options))
            assert got == [f for f in everything if f[0] in named], named


def test_a_folder_named_is_reported_with_the_project_as_context(project: Path) -> None:
    (project / "scripts").mkdir()
    (project / "scripts" / "__init__.py").write_text("", encoding="utf-8")
    (project / "scripts" / "train.py").write_text(TRAIN, encoding="utf-8")
    everything = findings(run("check", ".", "--no-cache", "--format", "json"))
    got = findings(run("check", "scripts", "--no-cache", "--format", "json"))
    assert got == [f for f in everything if f[0].startswith("scripts/")]
    assert "DL301" in [code for _, code, _, _ in got]


def test_stdin_is_analysed_with_the_project(project: Path) -> None:
    from_file = findings(run("check", "train.py", "--no-cache", "--format", "json"))
    # The file on disk is not read: the source on stdin stands for it.
    (project / "train.py").write_text("", encoding="utf-8")
    from_stdin = run("check", "-", "--stdin-filename", "train.py", "--format", "json", stdin=TRAIN.encode())
    assert findings(from_stdin) == from_file
    blind = run(
        "check", "-", "--stdin-filename", "train.py", "--no-project-context", "--format", "json", stdin=TRAIN.encode()
    )
    assert [code for _, code, _, _ in findings(blind)] == ["DL304"]


def test_excluded_and_ignored_files_are_no_context(project: Path) -> None:
    (project / ".gitignore").write_text("models.py\n", encoding="utf-8")
    everything = findings(run("check", ".", "--no-cache", "--format", "json"))
    alone = findings(run("check", "train.py", "--no-cache", "--format", "json"))
    assert alone == [f for f in everything if f[0] == "train.py"]
    assert "DL301" not in [code for _, code, _, _ in alone]


def test_fixes_touch_only_the_named_files(project: Path) -> None:
    (project / "other.py").write_text("from models import Net\n\nmodel = Net()\nmodel.eval\n", encoding="utf-8")
    run("check", "train.py", "--fix", "--no-cache")
    assert (project / "train.py").read_text(encoding="utf-8").endswith("model.eval()\n")
    assert (project / "other.py").read_text(encoding="utf-8").endswith("model.eval\n")


def test_a_warm_run_analyses_no_unchanged_file(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    analysed: list[str] = []
    real = runner._analyse_here

    def counting(args: tuple[str, Config]) -> runner.FileAnalysis:
        analysed.append(args[0])
        return real(args)

    monkeypatch.setattr(runner, "_analyse_here", counting)
    full = findings(run("check", ".", "--format", "json", "-j", "1"))
    assert sorted(analysed) == ["models.py", "train.py", "utils.py"]
    analysed.clear()
    # The hook names one file: the run's entry is the one the full run wrote.
    assert findings(run("check", "train.py", "--format", "json", "-j", "1")) == [f for f in full if f[0] == "train.py"]
    assert analysed == []
    # A changed file is the only one read again; the others' summaries are cached.
    (project / "train.py").write_text(TRAIN + "\n", encoding="utf-8")
    run("check", "train.py", "--format", "json", "-j", "1")
    assert analysed == ["train.py"]


def test_the_project_is_where_the_configuration_is(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.dropout-lint]\n", encoding="utf-8")
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "pyproject.toml").write_text("[project]\nname = 'pkg'\n", encoding="utf-8")
    named = [str(package / "train.py")]
    assert project_root(named, load_config(tmp_path / "pyproject.toml")) == tmp_path.resolve()
    # Without a configuration, the nearest pyproject.toml or .git above the paths.
    assert project_root(named, Config(root=tmp_path)) == package.resolve()
    assert project_root([str(tmp_path / "src" / "a.py")], Config(root=tmp_path)) == tmp_path.resolve()


def test_outside_any_project_only_the_named_files_are_read(tmp_path: Path) -> None:
    if any((folder / marker).exists() for folder in tmp_path.parents for marker in ("pyproject.toml", ".git")):
        pytest.skip("the temporary folder lies in a project")
    (tmp_path / "models.py").write_text(MODELS, encoding="utf-8")
    (tmp_path / "train.py").write_text(TRAIN, encoding="utf-8")
    named = [str(tmp_path / "train.py")]
    scope = in_context(named, named, Config(root=tmp_path))
    assert scope.files == tuple(named)
