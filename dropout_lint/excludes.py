"""Whether a path matches the configured excludes: for ``--force-exclude``, and for
every file and folder a walk meets.

The pre-commit hook names its files and passes ``--force-exclude``, so each of them is
matched against the excludes, and the run walks the rest of the project for context;
importing pathspec for that costs about 40 ms of a 0.3 s run, and its matcher tries
every pattern's regular expression on every path. The default excludes, and most
configured ones, are plain names or paths (``build``, ``third_party/``, ``/generated``),
which gitignore matches by component: those are matched here, and only a pattern with
a wildcard, a negation, an escape or a comment falls back to pathspec's gitignore
rules, to the same result. (A .gitignore file is read with pathspec.)
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Optional

_SPECIAL = frozenset("*?[]!\\#")


def matches(relative: str, is_dir: bool, patterns: Sequence[str]) -> bool:
    """Whether the path (POSIX, relative to the configuration's folder) is excluded."""
    plain = _plain(tuple(patterns))
    if plain is None:
        return bool(_pathspec(tuple(patterns)).match_file(relative + "/" if is_dir else relative))
    parts = relative.split("/")
    folders = parts if is_dir else parts[:-1]
    for name, anchored, only_folders in plain:
        if anchored:
            steps = name.split("/")
            if parts[: len(steps)] == steps and (not only_folders or len(steps) <= len(folders)):
                return True
        elif name in (folders if only_folders else parts):
            return True
    return False


@lru_cache(maxsize=8)
def _plain(patterns: tuple[str, ...]) -> Optional[tuple[tuple[str, bool, bool], ...]]:
    """(name, anchored to the folder, folders only) per pattern; None when a pattern
    needs gitignore's full rules."""
    out = []
    for pattern in patterns:
        if not pattern or pattern != pattern.strip() or _SPECIAL & set(pattern):
            return None
        only_folders = pattern.endswith("/")
        body = pattern.strip("/")
        # gitignore: a slash at the start or in the middle anchors the pattern.
        anchored = pattern.startswith("/") or "/" in body
        if not body or "//" in body or any(part in (".", "..") for part in body.split("/")):
            return None
        out.append((body, anchored, only_folders))
    return tuple(out)


@lru_cache(maxsize=8)
def _pathspec(patterns: tuple[str, ...]) -> Any:
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)
