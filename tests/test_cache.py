"""The cache: same findings with it or without, only changed files analysed again, and a
damaged or unwritable cache never an error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dropout_lint import engine, runner
from dropout_lint.cache import Cache
from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.runner import lint_files

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the fixtures: files, projects and a notebook."""
    shutil.copytree(FIXTURES, tmp_path / "fixtures")
    return tmp_path / "fixtures"


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.suffix in (".py", ".ipynb"))


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files analysed (not read from the cache), in this process."""
    seen: list[str] = []
    real = engine.analyse_file

    def counting(path: str, config: Config, display_path: str | None = None) -> engine.FileAnalysis:
        seen.append(Path(path).name)
        return real(path, config, display_path)

    monkeypatch.setattr(runner, "analyse_file", counting)
    return seen


def test_findings_are_the_same_with_the_cache_and_without(project: Path, tmp_path: Path, analysed: list[str]) -> None:
    files = _files(project)
    cache = Cache(tmp_path / "cache", Config())
    without = lint_files(files, Config(), jobs=1)
    cold = lint_files(files, Config(), jobs=1, cache=cache)
    analysed.clear()
    warm = lint_files(files, Config(), jobs=1, cache=cache)
    assert cold == without and warm == without
    assert analysed == []  # nothing changed: the run's results come from one entry


def test_a_changed_file_is_the_only_one_analysed_again(project: Path, tmp_path: Path, analysed: list[str]) -> None:
    files = _files(project)
    cache = Cache(tmp_path / "cache", Config())
    lint_files(files, Config(), jobs=1, cache=cache)
    script = project / "projects" / "tutorial" / "train.py"
    script.write_text(script.read_text(encoding="utf-8").replace("model.train()", "model.eval()", 1), encoding="utf-8")
    analysed.clear()
    parsed: list[str] = []
    real_parse = engine.parse_module

    def counting_parse(text: str) -> object:
        parsed.append(text)
        return real_parse(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "parse_module", counting_parse)
        warm = lint_files(files, Config(), jobs=1, cache=cache)
    assert analysed == ["train.py"]
    assert warm == lint_files(files, Config(), jobs=1)  # the cross-file findings follow the change
    assert any(d.code.startswith(("DL1", "DL3")) for r in warm if not r.path.endswith("train.py") for d in r.diagnostics)
    # Only the changed file is parsed: the others' findings keep the places cached with them.
    assert set(parsed) == {script.read_text(encoding="utf-8")}


def test_the_cache_follows_the_configuration(project: Path, tmp_path: Path) -> None:
    files = _files(project)
    cache_dir = tmp_path / "cache"
    lint_files(files, Config(), jobs=1, cache=Cache(cache_dir, Config()))
    narrow = Config(select=("DL401",))
    results = lint_files(files, narrow, jobs=1, cache=Cache(cache_dir, narrow))
    assert {d.code for r in results for d in r.diagnostics} == {"DL401"}


def test_a_damaged_entry_is_ignored_and_rewritten(project: Path, tmp_path: Path) -> None:
    files = _files(project)
    cache = Cache(tmp_path / "cache", Config())
    expected = lint_files(files, Config(), jobs=1, cache=cache)
    entries = [p for p in cache.folder.rglob("*") if p.is_file()]
    assert len(entries) == len(files) + 1  # one per file, one for the run
    for entry in entries:
        entry.write_bytes(b"not a pickle")
    assert lint_files(files, Config(), jobs=1, cache=cache) == expected
    assert lint_files(files, Config(), jobs=1, cache=cache) == expected
    assert not [p for p in cache.folder.rglob(".tmp-*")]


def test_an_unwritable_cache_is_no_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    files = _files(project)
    assert lint_files(files, Config(), jobs=1, cache=Cache(blocker, Config())) == lint_files(files, Config(), jobs=1)


def test_the_same_findings_across_workers_and_cache(project: Path, tmp_path: Path) -> None:
    files = _files(project)
    cache = Cache(tmp_path / "cache", Config())
    one = lint_files(files, Config(), jobs=1)
    two = lint_files(files, Config(), jobs=2, cache=cache)
    again = lint_files(files, Config(), jobs=2, cache=cache)
    assert one == two == again


def test_command_line_cache_and_clean(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    runner_ = CliRunner()
    first = runner_.invoke(main, ["check", ".", "--format", "json"])
    assert (project / ".dropout_lint_cache" / "CACHEDIR.TAG").exists()
    assert (project / ".dropout_lint_cache" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    second = runner_.invoke(main, ["check", ".", "--format", "json"])
    assert first.stdout == second.stdout and first.exit_code == second.exit_code == 1
    cleaned = runner_.invoke(main, ["clean"])
    assert cleaned.exit_code == 0 and "Removed" in cleaned.stdout
    assert not (project / ".dropout_lint_cache").exists()
    runner_.invoke(main, ["check", ".", "--no-cache"])
    assert not (project / ".dropout_lint_cache").exists()
    assert "No cache at" in runner_.invoke(main, ["clean"]).stdout


def test_clean_removes_only_a_cache(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["clean", "--cache-dir", str(precious)])
    assert "No cache at" in result.stdout
    assert (precious / "data.txt").exists()
