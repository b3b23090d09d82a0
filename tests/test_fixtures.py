"""The fixtures: realistic code with its expected findings, reviewed as files.

Each ``fixtures/<family>/<name>.py`` has a ``<name>.expected`` file beside it with one
line per finding (``line:column CODE message``). Lines of the fixture that must be
reported carry a ``# error: CODE`` comment, and the test checks both agree, so a
regenerated expectation cannot silently drift from the author's intent.

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

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "fixtures").rglob("*.py"))
_MARKER = re.compile(r"#\s*error:\s*(?P<codes>DL\d{3}(?:\s*,\s*DL\d{3})*)")


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _render(path: Path) -> str:
    result = lint_file(str(path), Config(select=("ALL",)), _relative(path))
    return "".join(
        f"{d.span.line}:{d.span.column + 1} {d.code} {d.message}\n" for d in result.diagnostics
    )


def _markers(path: Path) -> set[tuple[int, str]]:
    found = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            found.update((number, code.strip()) for code in match.group("codes").split(","))
    return found


def test_fixtures_are_found() -> None:
    assert len(FIXTURES) >= 8


@pytest.mark.parametrize("path", FIXTURES, ids=_relative)
def test_fixture_matches_expected(path: Path) -> None:
    expected_file = path.with_suffix(".expected")
    actual = _render(path)
    if os.environ.get("DROPOUT_LINT_REGENERATE"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", FIXTURES, ids=_relative)
def test_expected_agrees_with_markers(path: Path) -> None:
    reported = set()
    for line in path.with_suffix(".expected").read_text(encoding="utf-8").splitlines():
        position, code, _ = line.split(" ", 2)
        reported.add((int(position.split(":")[0]), code))
    assert reported == _markers(path)
