"""The exclude matcher of --force-exclude: plain patterns matched by hand, to the letter
of gitignore as pathspec reads it, and anything else by pathspec itself."""

from __future__ import annotations

import itertools

import pathspec
import pytest

from dropout_lint.config import DEFAULT_EXCLUDE
from dropout_lint.excludes import _plain, matches

PLAIN = ["build", "build/", "/build", "/build/", "third_party/", "src/gen", "src/gen/", "/src/gen", "a.py", "pkg/a.py"]
PATHS = [
    "build",
    "build/x.py",
    "src/build/x.py",
    "src/build",
    "builder.py",
    "rebuild/x.py",
    "third_party",
    "third_party/lib/v.py",
    "x/third_party/v.py",
    "src/gen",
    "src/gen/a.py",
    "src/generated/a.py",
    "other/src/gen/a.py",
    "a.py",
    "pkg/a.py",
    "pkg/sub/a.py",
    "pkg/a.pyc",
    ".",
]


@pytest.mark.parametrize("pattern", PLAIN)
def test_plain_patterns_match_as_gitignore_does(pattern: str) -> None:
    assert _plain((pattern,)) is not None  # matched by hand, not by pathspec
    spec = pathspec.GitIgnoreSpec.from_lines([pattern])
    for path, is_dir in itertools.product(PATHS, (False, True)):
        expected = spec.match_file(path + "/" if is_dir else path)
        assert matches(path, is_dir, [pattern]) == expected, (pattern, path, is_dir)


def test_the_default_excludes_are_plain() -> None:
    assert _plain(DEFAULT_EXCLUDE) is not None


@pytest.mark.parametrize("pattern", ["*_pb2.py", "**/gen/", "build*", "!keep.py", "# note", "a\\ b", "name ", "", "a//b", "../x"])
def test_other_patterns_are_left_to_pathspec(pattern: str) -> None:
    assert _plain(("build", pattern)) is None
    spec = pathspec.GitIgnoreSpec.from_lines(["build", pattern])
    for path, is_dir in itertools.product([*PATHS, "pkg/m_pb2.py", "x/gen/y.py", "keep.py"], (False, True)):
        assert matches(path, is_dir, ["build", pattern]) == spec.match_file(path + "/" if is_dir else path)
