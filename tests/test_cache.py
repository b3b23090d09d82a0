"""The cache: same findings with it or without, only changed files analysed again, and a
damaged or unwritable cache never an error."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from dropout_lint import cache as cache_module
from dropout_lint import cache_format, engine, runner
from dropout_lint.phases import analyse, cross_file
from dropout_lint.cache import Cache
from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.plain import PlainError
from dropout_lint.project import modes_ir
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
    real_parse = analyse.parse_module

    def counting_parse(text: str) -> object:
        parsed.append(text)
        return real_parse(text)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analyse, "parse_module", counting_parse)
        patch.setattr(cross_file, "parse_module", counting_parse)
        warm = lint_files(files, Config(), jobs=1, cache=cache)
    assert analysed == ["train.py"]
    assert warm == lint_files(files, Config(), jobs=1)  # the cross-file findings follow the change
    assert any(d.code.startswith(("DL1", "DL3")) for r in warm if not r.path.endswith("train.py") for d in r.diagnostics)
    # Only the changed file is parsed: the others' findings keep the places cached with them.
    assert set(parsed) == {script.read_text(encoding="utf-8")}


def test_the_cache_follows_where_imports_lead(tmp_path: Path) -> None:
    """An unchanged file's summary names its module and where its imports lead: adding
    an ``__init__.py`` above it must not leave a stale entry (here the rate of 0.9
    reaches the dropout only once ``pkg`` is a package that re-exports ``Block``)."""
    package = tmp_path / "work" / "pkg"
    package.mkdir(parents=True)
    (package / "layers.py").write_text(
        "import torch.nn as nn\n\n\nclass Block(nn.Module):\n"
        "    def __init__(self, drop=0.1):\n        super().__init__()\n        self.drop = nn.Dropout(drop)\n"
        "        self.fc = nn.Linear(4, 4)\n\n    def forward(self, x):\n        return self.fc(self.drop(x))\n",
        encoding="utf-8",
    )
    (package / "model.py").write_text("from pkg import Block\n\nmodel = Block(drop=0.9)\n", encoding="utf-8")
    cache = Cache(tmp_path / "cache", Config())

    def codes() -> list[str]:
        files = _files(package)
        cached = lint_files(files, Config(), jobs=1, cache=cache)
        assert cached == lint_files(files, Config(), jobs=1)
        return [d.code for r in cached for d in r.diagnostics]

    assert "DL202" not in codes()
    (package / "__init__.py").write_text("from .layers import Block\n", encoding="utf-8")
    assert "DL202" in codes()


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
    monkeypatch.delenv("DROPOUT_LINT_CACHE_DIR")
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


def test_the_cache_folder_from_the_environment(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DROPOUT_LINT_CACHE_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(project)
    CliRunner().invoke(main, ["check", "."])
    assert (tmp_path / "elsewhere" / "CACHEDIR.TAG").exists()
    assert not (project / ".dropout_lint_cache").exists()
    cleaned = CliRunner().invoke(main, ["clean"])
    assert cleaned.exit_code == 0 and not (tmp_path / "elsewhere").exists()


def test_clean_removes_only_a_cache(tmp_path: Path) -> None:
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "data.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["clean", "--cache-dir", str(precious)])
    assert "No cache at" in result.stdout
    assert (precious / "data.txt").exists()


class _Payload:
    """A pickle that runs a shell command when it is read, as a planted entry would."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_runs_nothing(project: Path, tmp_path: Path) -> None:
    files = _files(project)
    expected = lint_files(files, Config(), jobs=1)
    cache = Cache(tmp_path / "cache", Config())
    lint_files(files, Config(), jobs=1, cache=cache)
    marker = tmp_path / "pwned"
    planted = pickle.dumps(_Payload(marker))
    entries = [p for p in cache.folder.rglob("*") if p.is_file()]
    assert len(entries) == len(files) + 1
    for number, entry in enumerate(entries):
        if number % 2:  # half of them also pass the header and digest
            entry.write_bytes(_entry(planted))
        else:
            entry.write_bytes(planted)
    assert lint_files(files, Config(), jobs=1, cache=cache) == expected
    assert not marker.exists()
    assert lint_files(files, Config(), jobs=1, cache=cache) == expected  # rewritten, and read


def _entry(payload: bytes) -> bytes:
    return cache_format._HEADER + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload


def test_an_entry_is_read_only_into_its_own_types(project: Path, tmp_path: Path) -> None:
    files = _files(project)
    cache = Cache(tmp_path / "cache", Config())
    expected = lint_files(files, Config(), jobs=1, cache=cache)
    (run,) = cache.folder.rglob("run-*")
    results = json.loads(run.read_bytes().split(b"\n", 2)[2])
    assert results and results[0][0] == expected[0].path  # a FileResult: its fields in order
    first = next(result for result in results if result[1])  # with a finding
    diagnostic = first[1][0]  # code, name, severity, ...
    for changed in (
        [[first[0], [[*diagnostic[:2], "os.system", *diagnostic[3:]]], *first[2:]]],  # no such severity
        [results[0][:-1], *results[1:]],  # a field short
        [[results[0][0], {"__reduce__": "os.system"}, *results[0][2:]], *results[1:]],  # not a list
    ):
        run.write_bytes(_entry(json.dumps(changed).encode()))
        assert cache.load_run(run.name) is None
    run.write_bytes(_entry(json.dumps(results).encode())[:-1])  # cut short: the digest differs
    assert cache.load_run(run.name) is None
    run.write_bytes(_entry(json.dumps(results).encode()))
    assert cache.load_run(run.name) == expected


def test_a_union_builds_only_its_own_members() -> None:
    codec = cache_format.codec(engine.FileAnalysis)
    leave = modes_ir.Leave(modes_ir.Leaving.RETURN, "model")
    plain = codec.to_plain(leave, modes_ir.Event)
    assert plain == ["Leave", ["RETURN", "model"]]
    assert codec.from_plain(plain, modes_ir.Event) == leave
    for name in ("FileAnalysis", "Place", "Blob", "system", None, 3):
        with pytest.raises(PlainError):
            codec.from_plain([name, plain[1]], modes_ir.Event)


def test_every_analysis_reads_back_as_it_was_written(project: Path) -> None:
    config = Config()
    seen = set()
    for path in _files(project):
        analysis = engine.analyse_file(path, config)
        entry = cache_format.dump(analysis, engine.FileAnalysis)
        again = cache_format.load(entry, engine.FileAnalysis)
        # Written again, the same entry: the summary's pickled parts (and the places in
        # them, which compare by identity) included.
        assert again is not None and cache_format.dump(again, engine.FileAnalysis) == entry
        assert replace(again, summary=None) == replace(analysis, summary=None)
        seen.update(type(part).__name__ for part in (analysis.summary, analysis.notebook) if part is not None)
    assert seen == {"PackedSummary", "NotebookSource"}


def test_clean_leaves_another_tools_cache(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "CACHEDIR.TAG").write_text(
        "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by cargo.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["clean", "--cache-dir", str(target)])
    assert "No cache at" in result.stdout and (target / "CACHEDIR.TAG").exists()


def test_the_key_follows_the_libcst_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    before = Cache(tmp_path, Config()).folder
    monkeypatch.setattr(cache_module, "_libcst_stamp", lambda: "__version__ = version = '99.0.0'\n")
    assert Cache(tmp_path, Config()).folder != before
