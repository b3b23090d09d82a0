"""The fixtures: realistic code with its expected findings, reviewed as files.

- ``fixtures/examples/*.py`` and ``fixtures/local/*.py`` are linted one file at a time;
  each has a ``<name>.expected`` file beside it.
- ``fixtures/projects/<name>/`` is linted as one run (models in one file, the training
  script in another); its findings are in ``fixtures/projects/<name>/expected.txt``.

Expected files hold one finding per line (``path:line:column CODE message``; the path is
left out for single files). Lines of a fixture that must be reported carry a
``# error: CODE`` comment, and the test checks both agree, so a regenerated expectation
cannot silently drift from the author's intent.

Regenerate the expected files after a deliberate change with
``DROPOUT_LINT_REGENERATE=1 pytest tests/test_fixtures.py`` and review the diff.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dropout_lint.config import Config
from dropout_lint.engine import lint_file
from dropout_lint.runner import lint_files

ROOT = Path(__file__).resolve().parent.parent
SINGLE = sorted([*(ROOT / "fixtures" / "examples").glob("*.py"), *(ROOT / "fixtures" / "local").glob("*.py")])
PROJECTS = sorted(p for p in (ROOT / "fixtures" / "projects").iterdir() if p.is_dir())
_MARKER = re.compile(r"#\s*error:\s*(?P<codes>DL\d{3}(?:\s*,\s*DL\d{3})*)")
_ALL = Config(select=("ALL",))


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _markers(path: Path) -> set[tuple[str, int, str]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            found.update((_relative(path), number, code.strip()) for code in match.group("codes").split(","))
    return found


def _compare(actual: str, expected_file: Path) -> None:
    if os.environ.get("DROPOUT_LINT_REGENERATE"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


def test_fixtures_are_found() -> None:
    assert len(SINGLE) >= 8
    assert len(PROJECTS) >= 4


@pytest.mark.parametrize("path", SINGLE, ids=_relative)
def test_file_matches_expected(path: Path) -> None:
    result = lint_file(str(path), _ALL, _relative(path))
    actual = "".join(f"{d.span.line}:{d.span.column + 1} {d.code} {d.message}\n" for d in result.diagnostics)
    _compare(actual, path.with_suffix(".expected"))


@pytest.mark.parametrize("path", SINGLE, ids=_relative)
def test_file_expected_agrees_with_markers(path: Path) -> None:
    reported = set()
    for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        position, code, _ = line.split(" ", 2)
        reported.add((_relative(path), int(position.split(":")[0]), code))
    assert reported == _markers(path)


def _project_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("folder", PROJECTS, ids=_relative)
def test_project_matches_expected(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    results = lint_files([_relative(p) for p in _project_files(folder)], _ALL, jobs=1)
    actual = "".join(
        f"{d.path}:{d.span.line}:{d.span.column + 1} {d.code} {d.message}\n"
        for result in results
        for d in result.diagnostics
    )
    _compare(actual, folder / "expected.txt")


@pytest.mark.parametrize("folder", PROJECTS, ids=_relative)
def test_project_expected_agrees_with_markers(folder: Path) -> None:
    reported = set()
    for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines():
        location, code, _ = line.split(" ", 2)
        path, number, _ = location.split(":")
        reported.add((path, int(number), code))
    markers = set().union(*(_markers(p) for p in _project_files(folder)))
    assert reported == markers
