"""Finding the files to lint: folders are walked with .gitignore files and default
excludes honoured; a file named on the command line is always linted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dropout_lint.cli import main
from dropout_lint.config import Config
from dropout_lint.discovery import discover

BAD = """\
import torch.nn as nn

d = nn.Dropout(0.9)
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


def linted(*args: str) -> list[str]:
    """The paths with findings (every test file here has one) of ``check --format json ARGS``."""
    result = invoke("check", "--format", "json", *args)
    return sorted({f["path"] for f in json.loads(result.stdout)})


def make(root: Path, *relatives: str) -> None:
    for relative in relatives:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD, encoding="utf-8")


def files(paths: list[str], **config: object) -> list[str]:
    found = discover(paths, Config(**config))  # type: ignore[arg-type]
    return sorted(Path(f).as_posix() for f in found.files)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree (a `.git` folder is what marks one) with nested .gitignore files."""
    root = tmp_path / "repo"
    (root / ".git" / "info").mkdir(parents=True)
    make(
        root,
        "top.py",
        "pkg/keep.py",
        "pkg/gen_pb2.py",
        "pkg/sub/deep.py",
        "pkg/sub/keep2.py",
        "pkg/sub/inner/x.py",
        "data/raw.py",
        "scratch.py",
        "local_only.py",
    )
    (root / "pkg" / "notes.txt").write_text("not python\n", encoding="utf-8")
    (root / ".gitignore").write_text("data/\nscratch.py\n# comment\n", encoding="utf-8")
    (root / "pkg" / ".gitignore").write_text("*_pb2.py\n", encoding="utf-8")
    (root / "pkg" / "sub" / ".gitignore").write_text("*.py\n!keep2.py\n", encoding="utf-8")
    (root / ".git" / "info" / "exclude").write_text("local_only.py\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


KEPT = ["pkg/keep.py", "pkg/sub/keep2.py", "top.py"]


def test_gitignore_files_are_honoured_nested_ones_too(tree: Path) -> None:
    assert files(["."]) == KEPT
    assert linted() == KEPT


def test_gitignore_above_the_walked_folder_applies(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert files(["pkg"]) == ["pkg/keep.py", "pkg/sub/keep2.py"]
    monkeypatch.chdir(tree / "pkg" / "sub")
    assert files(["."]) == ["keep2.py"]
    assert linted("inner") == []


def test_no_respect_gitignore_lints_ignored_files(tree: Path) -> None:
    everything = [
        "data/raw.py",
        "local_only.py",
        "pkg/gen_pb2.py",
        "pkg/keep.py",
        "pkg/sub/deep.py",
        "pkg/sub/inner/x.py",
        "pkg/sub/keep2.py",
        "scratch.py",
        "top.py",
    ]
    assert files(["."], respect_gitignore=False) == everything
    assert linted("--no-respect-gitignore") == everything


def test_agrees_with_git(tree: Path) -> None:
    git = shutil.which("git")
    assert git is not None, "git is needed to cross-check .gitignore handling"
    shutil.rmtree(tree / ".git")
    subprocess.run([git, "init", "-q", "."], cwd=tree, check=True)
    (tree / ".git" / "info" / "exclude").write_text("local_only.py\n", encoding="utf-8")
    listed = subprocess.run(
        [git, "ls-files", "--others", "--exclude-standard", "--", "*.py"],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert sorted(listed) == KEPT
    assert files(["."]) == sorted(listed)


def test_gitignore_outside_a_git_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "proj/src/a.py", "proj/src/gen/b.py", "proj/other.py")
    (tmp_path / "proj" / ".gitignore").write_text("gen/\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path / "proj")
    assert files(["."]) == ["other.py", "src/a.py"]
    # The same file is skipped when only a sub-folder is linted.
    assert files(["src"]) == ["src/a.py"]


DEFAULT_EXCLUDED = [
    ".git/hooks/x.py",
    ".venv/lib/site.py",
    "venv/lib/site.py",
    ".tox/py/x.py",
    "build/lib/x.py",
    "dist/x.py",
    "__pycache__/x.py",
    "node_modules/pkg/x.py",
    ".mypy_cache/x.py",
    "pkg/build/x.py",
    "pkg/__pycache__/y.py",
]


def test_default_excludes_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "main.py", "pkg/mod.py", "builder.py", "distance/x.py", *DEFAULT_EXCLUDED)
    monkeypatch.chdir(tmp_path)
    expected = ["builder.py", "distance/x.py", "main.py", "pkg/mod.py"]
    assert files(["."]) == expected
    assert linted(".") == expected
    # With `exclude` emptied, they are all linted.
    assert len(files(["."], exclude=())) == len(expected) + len(DEFAULT_EXCLUDED)


def test_only_python_files_are_found_in_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "a.py", "b.pyi.txt", "c.txt", "script")
    monkeypatch.chdir(tmp_path)
    assert files(["."]) == ["a.py"]


def test_a_file_named_explicitly_is_always_linted(tree: Path) -> None:
    make(tree, "build/gen.py", ".venv/lib/site.py")
    (tree / "tool").write_text(BAD, encoding="utf-8")  # no .py suffix
    named = ["data/raw.py", "pkg/gen_pb2.py", "pkg/sub/deep.py", "build/gen.py", ".venv/lib/site.py", "tool"]
    assert files(named) == sorted(named)
    assert linted(*named) == sorted(named)


def _configured(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nextend-exclude = ["third_party/", "*_gen.py"]\n', encoding="utf-8"
    )
    make(root, "src/model.py", "src/model_gen.py", "third_party/lib/vendored.py", "build/out.py")


def test_force_exclude_applies_the_excludes_to_named_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _configured(tmp_path)
    monkeypatch.chdir(tmp_path)
    named = ["src/model.py", "src/model_gen.py", "third_party/lib/vendored.py", "build/out.py"]
    assert linted(*named) == sorted(named)  # named files are linted, as before
    assert linted("--force-exclude", *named) == ["src/model.py"]
    # A named folder that is excluded is skipped whole; one that is not is walked as usual.
    assert linted("--force-exclude", "third_party", "src") == ["src/model.py"]
    assert linted("--force-exclude", "third_party/lib/vendored.py") == []


def test_force_exclude_matches_from_the_configurations_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _configured(tmp_path)
    monkeypatch.chdir(tmp_path / "third_party")
    assert linted("--force-exclude", "lib/vendored.py") == []
    assert linted("lib/vendored.py") == ["lib/vendored.py"]
    monkeypatch.chdir(tmp_path / "src")
    assert linted("--force-exclude", "model.py", "model_gen.py", "../build/out.py") == ["model.py"]


def test_force_exclude_with_nothing_left_is_clean(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _configured(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = invoke("check", "--force-exclude", "third_party/lib/vendored.py")
    assert result.exit_code == 0
    assert result.stdout == "No problems found in 0 files.\n"


def test_force_exclude_applies_to_the_stdin_filename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _configured(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["check", "-", "--stdin-filename", "third_party/lib/vendored.py", "--format", "json"]
    assert json.loads(runner.invoke(main, args, input=BAD).stdout) != []
    skipped = runner.invoke(main, [*args, "--force-exclude"], input=BAD)
    assert skipped.exit_code == 0 and json.loads(skipped.stdout) == []
    # --fix gives the excluded source back unchanged, as the editor expects the whole text.
    fixed = runner.invoke(main, [*args[:4], "--force-exclude", "--fix", "-q"], input=BAD)
    assert fixed.stdout.startswith(BAD)
    kept = runner.invoke(main, ["check", "-", "--stdin-filename", "src/model.py", "--force-exclude", "--format", "json"], input=BAD)
    assert kept.exit_code == 1 and json.loads(kept.stdout) != []


def test_missing_path(tree: Path) -> None:
    found = discover(["nope.py", "top.py", "no/such/dir"], Config())
    assert found.missing == ["nope.py", "no/such/dir"]
    assert found.files == ["top.py"]
    result = invoke("check", "nope.py", "top.py", "--format", "concise")
    assert result.exit_code == 2
    assert "no such file or directory: nope.py" in result.stderr
    assert result.stdout.startswith("top.py:3:")


def test_each_file_is_linted_once(tree: Path) -> None:
    assert files(["top.py", "./top.py", ".", str(tree / "top.py")]) == KEPT
    result = invoke("check", "top.py", "top.py", "--format", "json")
    assert len(json.loads(result.stdout)) == 1


def test_order_is_stable(tree: Path) -> None:
    first = discover(["."], Config()).files
    assert first == discover(["."], Config()).files
    # A folder's files by name, then its sub-folders by name, depth first.
    assert [Path(p).as_posix() for p in first] == ["top.py", "pkg/keep.py", "pkg/sub/keep2.py"]


needs_symlinks = pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges on Windows")


@needs_symlinks
def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    make(tmp_path, "a/one.py", "a/b/two.py")
    os.symlink("..", tmp_path / "a" / "b" / "up")
    os.symlink(".", tmp_path / "a" / "self")
    os.symlink("loop2", tmp_path / "a" / "loop1")
    os.symlink("loop1", tmp_path / "a" / "loop2")
    done = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "check", "--format", "json", "a"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert sorted({f["path"] for f in json.loads(done.stdout)}) == ["a/b/two.py", "a/one.py"]


@needs_symlinks
def test_symlinks_that_are_not_python_files_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, "real.py", "folder/inside.py")
    os.symlink("folder", tmp_path / "looks_like.py")  # a folder named like a module
    os.symlink("nowhere.py", tmp_path / "broken.py")
    os.symlink("real.py", tmp_path / "alias.py")  # the same file twice: linted once
    monkeypatch.chdir(tmp_path)
    assert files(["."]) in (["alias.py", "folder/inside.py"], ["folder/inside.py", "real.py"])
    result = invoke("check", ".", "--format", "json")
    codes = [f["code"] for f in json.loads(result.stdout)]
    assert "DL900" not in codes  # nothing unreadable was handed to the linter
    assert codes == ["DL202", "DL202"]
