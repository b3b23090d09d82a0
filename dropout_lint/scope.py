"""Which files a run analyses, and which of them it reports.

The paths named on the command line are reported; the analysis sees the whole project
they belong to, the way a type checker does: a training script's DL301 depends on the
model class in another file, so a pre-commit hook that names only the script must still
read that file. The other files are found as a run over the project finds them (its
excludes and ``.gitignore`` files), and their summaries come from the cache when they
have not changed.

The project is the folder of the configuration file when the named paths lie in it,
else the nearest folder above them that holds a ``pyproject.toml`` or ``.git``; outside
any project only the named files are read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from dropout_lint.config import Config, common_parent
from dropout_lint.discovery import discover

_MARKERS = ("pyproject.toml", ".git")


@dataclass(frozen=True)
class Scope:
    """The files to analyse, in discovery order, and those of them to report (``None``:
    all of them)."""

    files: tuple[str, ...]
    reported: Optional[tuple[str, ...]] = None


def project_root(paths: Sequence[str], config: Config) -> Optional[Path]:
    """The folder of the project that the paths belong to, or None outside any."""
    start = common_parent([Path(path) for path in paths])
    if config.source is not None:
        root = config.root.resolve()
        if root == start or root in start.parents:
            return root
    for folder in (start, *start.parents):
        if any(os.path.exists(folder / marker) for marker in _MARKERS):
            return folder
    return None


def project_files(root: Path, config: Config) -> list[str]:
    """The project's files, as a run over the project finds them, named relative to the
    working folder where that is shorter (so that they are cached under the names a run
    over the whole project gives them)."""
    try:
        shown = os.path.relpath(root)
    except ValueError:  # on another drive
        shown = str(root)
    return discover([shown], config).files


def in_context(named: Sequence[str], paths: Sequence[str], config: Config) -> Scope:
    """The named files (as discovery found them from ``paths``) to report, analysed with
    their project's other files. A named file keeps its own name, and its place in the
    project's order; one outside the walk (excluded, or ignored by git) comes last."""
    if not named:
        return Scope(())
    root = project_root(paths, config)
    if root is None:
        return Scope(tuple(named))
    by_key = {os.path.realpath(file): file for file in named}
    files = []
    for file in project_files(root, config):
        files.append(by_key.pop(os.path.realpath(file), file))
    files.extend(file for file in named if os.path.realpath(file) in by_key)
    return Scope(tuple(files), tuple(named))


def without(path: str, scope: Scope) -> Scope:
    """The scope less the file at ``path`` (whose text comes from elsewhere: stdin)."""
    key = os.path.realpath(path)
    return Scope(tuple(file for file in scope.files if os.path.realpath(file) != key), ())
