"""Find the files to lint: walk folders, honour excludes and .gitignore files."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from dropout_lint.config import Config
from dropout_lint.excludes import matches

if TYPE_CHECKING:
    import pathspec

PYTHON_SUFFIXES = (".py", ".ipynb")


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


class _Ignores:
    """The .gitignore files that apply under a folder, innermost last."""

    def __init__(self, specs: Sequence[tuple[Path, pathspec.GitIgnoreSpec]] = ()) -> None:
        self.specs = list(specs)

    def with_folder(self, folder: Path) -> _Ignores:
        spec = _read_ignore_file(folder / ".gitignore")
        if spec is None:
            return self
        return _Ignores([*self.specs, (folder, spec)])

    def ignored(self, path: Path, is_dir: bool) -> bool:
        result = False
        for base, spec in self.specs:
            try:
                relative = path.relative_to(base).as_posix()
            except ValueError:
                continue
            if is_dir:
                relative += "/"
            check = spec.check_file(relative)
            if check.include is not None:
                result = bool(check.include)
        return result


def _read_ignore_file(path: Path) -> Optional[pathspec.GitIgnoreSpec]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return _spec(lines)


def _spec(lines: Sequence[str]) -> pathspec.GitIgnoreSpec:
    # pathspec is imported here, not at the top: naming files (as a pre-commit hook
    # does) walks no folder and needs no patterns, so a one-file run does not pay for it.
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _git_root(start: Path) -> Optional[Path]:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _ignores_above(folder: Path, project_root: Path) -> _Ignores:
    """The .gitignore files from the repository root down to ``folder`` (exclusive).

    Outside a git repository the project root (where the configuration lives, else the
    working directory) stands in for it, so that ``check src`` skips what ``check .``
    skips: the walk itself reads .gitignore files whether or not git is there."""
    root = _git_root(folder)
    ignores = _Ignores()
    if root is not None:
        info = _read_ignore_file(root / ".git" / "info" / "exclude")
        if info is not None:
            ignores = _Ignores([(root, info)])
    elif project_root == folder or project_root in folder.parents:
        root = project_root
    else:
        return ignores
    chain = [folder, *folder.parents]
    for parent in reversed(chain[1 : chain.index(root) + 1]):
        ignores = ignores.with_folder(parent)
    return ignores


def discover(paths: Sequence[str], config: Config, force_exclude: bool = False) -> Discovery:
    """Files to lint, in a stable order. A file named explicitly is always linted, unless
    ``force_exclude`` applies the configured excludes to it too (ruff's ``--force-exclude``:
    a pre-commit hook names every staged file, vendored code included)."""
    result = Discovery()
    seen: set[str] = set()
    for raw in paths:
        path = Path(raw)
        if not path.exists() and not path.is_symlink():
            result.missing.append(raw)
            continue
        if force_exclude and is_excluded(raw, config):
            continue
        if path.is_dir():
            found = _walk(path, config)
        else:
            found = iter([os.path.normpath(raw)])
        for file in found:
            key = os.path.realpath(file)
            if key not in seen:
                seen.add(key)
                result.files.append(file)
    return result


def is_excluded(raw: str, config: Config) -> bool:
    """Whether a path named explicitly matches the configured excludes (relative to the
    configuration's folder), as it would when a folder above it is walked."""
    path = Path(os.path.abspath(raw))
    # The folders resolved as a walk resolves them, the name kept as given (a symlinked
    # file is excluded by its own name, not its target's).
    located = path.parent.resolve() / path.name if path.name else path.resolve()
    try:
        is_dir = located.is_dir()
    except OSError:
        is_dir = False
    try:
        relative = located.relative_to(config.root.resolve()).as_posix()
    except ValueError:
        relative = located.name
    return matches(relative, is_dir, (*config.exclude, *config.extend_exclude))


def _walk(top: Path, config: Config) -> Iterator[str]:
    absolute_top = top.resolve()
    root = config.root.resolve()
    excluded = (*config.exclude, *config.extend_exclude)
    ignores = _ignores_above(absolute_top, root) if config.respect_gitignore else _Ignores()
    stack: list[tuple[str, Path, _Ignores]] = [(os.path.normpath(str(top)), absolute_top, ignores)]
    while stack:
        shown, absolute, ignores = stack.pop()
        if config.respect_gitignore:
            ignores = ignores.with_folder(absolute)
        try:
            entries = sorted(os.scandir(absolute), key=lambda e: e.name)
        except OSError:
            continue
        folders = []
        for entry in entries:
            entry_path = absolute / entry.name
            shown_path = os.path.join(shown, entry.name) if shown != "." else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if _excluded(entry_path, root, is_dir, excluded):
                continue
            if config.respect_gitignore and ignores.ignored(entry_path, is_dir):
                continue
            if is_dir:
                folders.append((shown_path, entry_path, ignores))
            elif entry.name.endswith(PYTHON_SUFFIXES) and _is_file(entry):
                yield shown_path
        stack.extend(reversed(folders))


def _is_file(entry: os.DirEntry[str]) -> bool:
    # Symlinked folders are not walked (no loops); a symlink to a file is linted, but one
    # to a folder or to nothing, named like a Python file, is not a file to read.
    try:
        return entry.is_file()
    except OSError:
        return False


def _excluded(path: Path, root: Path, is_dir: bool, excluded: tuple[str, ...]) -> bool:
    try:
        relative = path.relative_to(root).as_posix()
    except ValueError:
        relative = path.name
    return matches(relative, is_dir, excluded)
