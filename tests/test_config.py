"""Configuration: ``[tool.dropout-lint]`` in the nearest pyproject.toml, merged with the
command line; every mistake in it is exit 2 with a message, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint.cli import main
from dropout_lint.config import (
    DEFAULT_EXCLUDE,
    Config,
    config_from_table,
    find_config_file,
    load_config,
)
from dropout_lint.errors import ConfigError

BAD = """\
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 10)
        self.drop = nn.Dropout(p=0.8)        # DL202 high-dropout-rate (warning)

    def forward(self, x):
        x = F.dropout(self.fc(x), 0.5)       # DL401 functional-dropout-always-on (error)
        return x + self.drop(x)

model = Net()
model.eval                                   # DL304 mode-method-not-called (error)
"""
FORCED = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, training=True)
"""


@pytest.fixture(autouse=True)
def _no_colour_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # CI services often set FORCE_COLOR; the in-process runs here expect plain text.
    for name in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def invoke(*args: str) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def found(*args: str) -> list[tuple[str, str]]:
    """(path, code) of every finding of ``dropout-lint check ARGS``."""
    result = invoke("check", "--format", "json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return [(f["path"], f["code"]) for f in json.loads(result.stdout)]


def write_pyproject(folder: Path, body: str) -> Path:
    path = folder / "pyproject.toml"
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """proj/ with src/model.py and tests/test_model.py (both bad), cwd = proj."""
    root = tmp_path / "proj"
    for relative in ("src/model.py", "tests/test_model.py"):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(BAD, encoding="utf-8")
    monkeypatch.chdir(root)
    return root


ALL_BAD = [
    ("src/model.py", "DL202"),
    ("src/model.py", "DL401"),
    ("src/model.py", "DL304"),
    ("tests/test_model.py", "DL202"),
    ("tests/test_model.py", "DL401"),
    ("tests/test_model.py", "DL304"),
]


# -- finding the file ---------------------------------------------------------------------


def test_nearest_pyproject_with_the_table_wins(tmp_path: Path) -> None:
    outer = write_pyproject(tmp_path, "[tool.dropout-lint]\nignore = ['DL202']\n")
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    write_pyproject(tmp_path / "a", "[project]\nname = 'a'\n")  # no table of ours: skipped
    write_pyproject(tmp_path / "a" / "b", "tool = 3\n")  # malformed `tool`: skipped, no crash
    assert find_config_file([tmp_path / "a" / "b" / "c"]) == outer
    inner = write_pyproject(tmp_path / "a" / "b" / "c", "[tool.dropout-lint]\n")
    assert find_config_file([tmp_path / "a" / "b" / "c"]) == inner
    assert find_config_file([tmp_path / "a" / "b" / "c" / "x.py"]) == inner


def test_config_search_starts_at_the_common_parent_of_the_paths(tmp_path: Path) -> None:
    project = write_pyproject(tmp_path, "[tool.dropout-lint]\n")
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    write_pyproject(tmp_path / "one", "[tool.dropout-lint]\nignore = ['DL2']\n")
    assert find_config_file([tmp_path / "one" / "x.py", tmp_path / "two" / "y.py"]) == project
    assert find_config_file([tmp_path / "one" / "x.py"]) == tmp_path / "one" / "pyproject.toml"


def test_no_config_file_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    found_file = find_config_file([tmp_path / "x"])
    # Nothing in tmp_path; a file further up (outside the test's control) must not be ours.
    assert found_file is None or tmp_path not in found_file.parents
    config = Config()
    assert config.max_rate == 0.5
    assert config.exclude == DEFAULT_EXCLUDE
    assert "DL401" in config.enabled and "DL404" not in config.enabled


def test_the_config_above_the_linted_paths_is_used_not_the_cwd_one(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nignore = ['DL202', 'DL304']\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_pyproject(elsewhere, "[tool.dropout-lint]\nignore = ['DL401']\n")
    monkeypatch.chdir(elsewhere)
    codes = [code for _, code in found(str(project / "src"))]
    assert codes == ["DL401"]


# -- what the table sets ------------------------------------------------------------------


def test_select_ignore_and_extend_select_from_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nselect = ['DL4']\n")
    assert found("src") == [("src/model.py", "DL401")]
    write_pyproject(project, "[tool.dropout-lint]\nignore = ['DL202', 'DL4']\n")
    assert found("src") == [("src/model.py", "DL304")]
    (project / "src" / "forced.py").write_text(FORCED, encoding="utf-8")
    write_pyproject(project, "[tool.dropout-lint]\nextend-select = ['DL404']\nignore = ['DL2', 'DL3']\n")
    assert found("src") == [("src/forced.py", "DL404"), ("src/model.py", "DL401")]


def test_codes_in_the_file_are_case_insensitive(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nselect = ['dl304']\n")
    assert found("src") == [("src/model.py", "DL304")]


def test_max_rate_from_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nmax-rate = 0.9\n")
    assert ("src/model.py", "DL202") not in found("src")
    write_pyproject(project, "[tool.dropout-lint]\nmax-rate = 0.7\n")
    result = invoke("check", "src", "--format", "json", "--select", "DL202")
    assert "maximum 0.7" in json.loads(result.stdout)[0]["message"]


def test_per_file_ignores(project: Path) -> None:
    write_pyproject(
        project,
        "[tool.dropout-lint]\n[tool.dropout-lint.per-file-ignores]\n"
        "'tests/*' = ['DL4', 'DL304']\n'model.py' = ['DL202']\n",
    )
    assert found() == [("src/model.py", "DL401"), ("src/model.py", "DL304"), ("tests/test_model.py", "DL202")]


def test_per_file_ignores_are_relative_to_the_config_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_pyproject(project, "[tool.dropout-lint.per-file-ignores]\n'tests/*' = ['DL2', 'DL3', 'DL4']\n")
    monkeypatch.chdir(project / "src")  # run from a sub-folder: patterns still anchor at proj/
    assert found("..") == [("../src/model.py", "DL202"), ("../src/model.py", "DL401"), ("../src/model.py", "DL304")]
    assert found("../tests/test_model.py") == []


def test_exclude_and_extend_exclude_from_the_file(project: Path) -> None:
    (project / "build").mkdir()
    (project / "build" / "gen.py").write_text(BAD, encoding="utf-8")
    (project / "src" / "generated").mkdir()
    (project / "src" / "generated" / "g.py").write_text(BAD, encoding="utf-8")
    paths = lambda: sorted({path for path, _ in found()})  # noqa: E731
    assert paths() == ["src/generated/g.py", "src/model.py", "tests/test_model.py"]
    write_pyproject(project, "[tool.dropout-lint]\nextend-exclude = ['generated/', 'tests']\n")
    assert paths() == ["src/model.py"]
    # `exclude` replaces the defaults: build/ is linted again.
    write_pyproject(project, "[tool.dropout-lint]\nexclude = ['tests']\n")
    assert paths() == ["build/gen.py", "src/generated/g.py", "src/model.py"]


def test_cli_extend_exclude_adds_to_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nextend-exclude = ['tests']\n")
    assert {path for path, _ in found()} == {"src/model.py"}
    assert found("--extend-exclude", "src") == []


# -- the command line overrides the file --------------------------------------------------


def test_cli_select_overrides_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nselect = ['DL4']\nignore = ['DL202']\n")
    assert found("src") == [("src/model.py", "DL401")]
    # An explicit --select wins over the file's select *and* its ignore.
    assert found("src", "--select", "DL202") == [("src/model.py", "DL202")]
    assert found("src", "--select", "DL2,DL3") == [("src/model.py", "DL202"), ("src/model.py", "DL304")]


def test_cli_extend_select_overrides_the_file_ignore(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nignore = ['DL202', 'DL304']\n")
    assert found("src") == [("src/model.py", "DL401")]
    assert found("src", "--extend-select", "DL202") == [("src/model.py", "DL202"), ("src/model.py", "DL401")]


def test_cli_ignore_adds_to_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nignore = ['DL202']\n")
    assert found("src", "--ignore", "DL304") == [("src/model.py", "DL401")]


def test_cli_max_rate_overrides_the_file(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nmax-rate = 0.9\n")
    assert ("src/model.py", "DL202") not in found("src")
    assert ("src/model.py", "DL202") in found("src", "--max-rate", "0.5")


def test_per_file_ignores_still_apply_with_cli_select(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint.per-file-ignores]\n'tests/*' = ['DL401']\n")
    assert found("--select", "DL401") == [("src/model.py", "DL401")]


def test_explicit_config_file(project: Path, tmp_path: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\nignore = ['DL202']\n")
    other = tmp_path / "other.toml"
    other.write_text("[tool.dropout-lint]\nselect = ['DL304']\n", encoding="utf-8")
    assert found("src", "--config", str(other)) == [("src/model.py", "DL304")]
    result = invoke("check", "src", "--config", "missing.toml")
    assert result.exit_code == 2
    assert "missing.toml" in result.stderr


# On whatever the selection: a file that could not be linted is always reported.
FILE_LEVEL = {"DL900", "DL901"}


def test_merged_layers_the_command_line_over_the_file() -> None:
    base = config_from_table({"select": ["DL2", "DL30"], "ignore": ["DL202", "DL204", "DL301", "DL302"]}, root=Path("."))
    assert base.enabled == {"DL201", "DL203", "DL205", "DL303", "DL304", "DL305", "DL306"} | FILE_LEVEL
    assert base.merged().enabled == base.enabled
    assert base.merged(ignore=("DL3",)).enabled == {"DL201", "DL203", "DL205"} | FILE_LEVEL
    assert base.merged(extend_select=("DL202",)).enabled == {"DL201", "DL202", "DL203", "DL205", "DL303", "DL304", "DL305", "DL306"} | FILE_LEVEL
    assert base.merged(select=("DL202",)).enabled == {"DL202"} | FILE_LEVEL
    assert base.merged(select=("DL2",), ignore=("DL201",)).enabled == {"DL202", "DL203", "DL204", "DL205"} | FILE_LEVEL
    assert base.merged(max_rate=0.3).max_rate == 0.3
    assert base.merged(max_rate=None).max_rate == 0.5


# -- mistakes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.dropout-lint]\nselekt = ['DL4']\n", "unknown key(s) in [tool.dropout-lint]: selekt"),
        ("[tool.dropout-lint]\nselect = ['DL999']\n", "select: unknown rule code or prefix 'DL999'"),
        ("[tool.dropout-lint]\nignore = ['XX']\n", "ignore: unknown rule code or prefix 'XX'"),
        ("[tool.dropout-lint]\nextend-select = ['DL7']\n", "extend-select: unknown rule code or prefix 'DL7'"),
        ("[tool.dropout-lint.per-file-ignores]\n'a.py' = ['DL999']\n", "unknown rule code or prefix 'DL999'"),
        ("[tool.dropout-lint]\nper-file-ignores = ['a.py']\n", "per-file-ignores must be a table"),
        ("[tool.dropout-lint]\nselect = [1, 2]\n", "select must be a list of rule codes"),
        ("[tool.dropout-lint]\nmax-rate = 'high'\n", "max-rate must be a number in (0, 1]"),
        ("[tool.dropout-lint]\nmax-rate = 0\n", "max-rate must be a number in (0, 1]"),
        ("[tool.dropout-lint]\nmax-rate = true\n", "max-rate must be a number in (0, 1]"),
        ("[tool.dropout-lint]\nexclude = 'build'\n", "exclude must be a list of path patterns"),
        ("[tool.dropout-lint]\nselect = [\n", "invalid TOML"),
        ("[tool.dropout-lint\n", "invalid TOML"),
        ("[tool]\ndropout-lint = 3\n", "[tool.dropout-lint] must be a table"),
    ],
)
def test_config_errors_are_exit_2_with_a_message(project: Path, body: str, message: str) -> None:
    path = write_pyproject(project, body)
    result = invoke("check", "src")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert str(path) in result.stderr  # the message names the file to fix
    assert result.stderr.startswith("dropout-lint: error: ")
    assert "Traceback" not in result.stderr


def test_a_malformed_tool_entry_in_the_named_config_is_an_error(project: Path) -> None:
    path = write_pyproject(project, "tool = 3\n")
    result = invoke("check", "src", "--config", str(path))
    assert result.exit_code == 2
    assert "`tool` must be a table" in result.stderr


def test_load_config_raises_config_error(tmp_path: Path) -> None:
    path = write_pyproject(tmp_path, "[tool.dropout-lint]\nunknown-thing = 1\n")
    with pytest.raises(ConfigError, match="unknown-thing"):
        load_config(path)
    good = write_pyproject(tmp_path, "[tool.dropout-lint]\nmax-rate = 0.25\n")
    config = load_config(good)
    assert config.max_rate == 0.25
    assert config.root == tmp_path
    assert config.source == good


def test_an_empty_table_gives_the_defaults(project: Path) -> None:
    write_pyproject(project, "[tool.dropout-lint]\n")
    assert found() == ALL_BAD
