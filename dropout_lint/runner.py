"""Lint many files, in one process or a pool of workers, with a stable result order."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from dropout_lint.config import Config
from dropout_lint.engine import FileResult, lint_file

# Below this many files a pool costs more to start than it saves.
_POOL_THRESHOLD = 16


def default_jobs() -> int:
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _display(path: str) -> str:
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:
            return path
        return path if relative.startswith("..") else relative
    return path


def _lint_one(args: tuple[str, Config]) -> FileResult:
    path, config = args
    return lint_file(path, config, _display(path))


def lint_files(
    files: Sequence[str],
    config: Config,
    jobs: Optional[int] = None,
    progress: Optional[Callable[[], None]] = None,
) -> list[FileResult]:
    """Results for every file, sorted by path whatever the number of workers."""
    jobs = default_jobs() if jobs is None else max(jobs, 1)
    work = [(path, config) for path in files]
    results: Iterator[FileResult]
    if jobs == 1 or len(work) < _POOL_THRESHOLD:
        results = map(_lint_one, work)
        collected = _collect(results, progress)
    else:
        chunk = max(1, min(32, len(work) // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            collected = _collect(pool.map(_lint_one, work, chunksize=chunk), progress)
    collected.sort(key=lambda r: r.path)
    return collected


def _collect(results: Iterator[FileResult], progress: Optional[Callable[[], None]]) -> list[FileResult]:
    out = []
    for result in results:
        out.append(result)
        if progress is not None:
            progress()
    return out
