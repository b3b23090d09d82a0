"""Lint many files, in one process or a pool of workers, with a stable result order."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

from dropout_lint.config import Config
from dropout_lint.engine import FileAnalysis, FileResult, analyse_file, finish

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


def _analyse_one(args: tuple[str, Config]) -> FileAnalysis:
    path, config = args
    return analyse_file(path, config, _display(path))


def lint_files(
    files: Sequence[str],
    config: Config,
    jobs: Optional[int] = None,
    progress: Optional[Callable[[], None]] = None,
) -> list[FileResult]:
    """Results for every file, sorted by path whatever the number of workers.

    Files are analysed one by one (in parallel when there are many); the cross-file
    rules then run once over all of them.
    """
    jobs = default_jobs() if jobs is None else max(jobs, 1)
    work = [(path, config) for path in files]
    if jobs == 1 or len(work) < _POOL_THRESHOLD:
        analyses = _collect(map(_analyse_one, work), progress)
    else:
        chunk = max(1, min(32, len(work) // (jobs * 8)))
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            analyses = _collect(pool.map(_analyse_one, work, chunksize=chunk), progress)
    analyses.sort(key=lambda a: a.path)
    return finish(analyses, config)


def _collect(results: Iterator[FileAnalysis], progress: Optional[Callable[[], None]]) -> list[FileAnalysis]:
    out = []
    for result in results:
        out.append(result)
        if progress is not None:
            progress()
    return out
