"""Lint many files, in one process or a pool of workers, with a stable result order."""

from __future__ import annotations

import gc
import os
import pickle
import stat
import sys
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Optional

from dropout_lint import engine, memory
from dropout_lint.blobs import SpillFile
from dropout_lint.config import Config
from dropout_lint.engine import FileAnalysis, FileResult, analyse_file, crashed, finish
from dropout_lint.project.identity import identify
from dropout_lint.records import share_strings

if TYPE_CHECKING:
    from dropout_lint.cache import Cache  # the caller makes one; --no-cache needs no hashing

# Below this many files a pool costs more to start than it saves.
_POOL_THRESHOLD = 16
# Thresholds of the garbage collector while files are linted (see _few_collections).
_GC_THRESHOLDS = (100_000, 50, 100)
# From this many files on, the summaries' pickles wait in a temporary file (see _Spill).
_SPILL_THRESHOLD = 256


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


def prepare(config: Config) -> None:
    """Import what parsing files takes (``engine.prepare``: libcst, the analyses, the
    enabled checks) before the first file is parsed and any worker process is forked.

    The import makes a few hundred thousand objects (classes, functions, their
    dictionaries) that live as long as the process, and next to no garbage, yet sets off
    dozens of collections, each scanning what was made so far. So the collector is off
    while they are made and then leaves them out of every later collection
    (``gc.freeze``, which also keeps a forked worker from copying their pages): about
    25 ms of a 0.3 s one-file run. Only the first import in a process does this; a run
    whose files all come from the cache does none of it."""
    if "libcst" in sys.modules or not gc.isenabled():
        engine.prepare(config.enabled)
        return
    gc.disable()
    try:
        engine.prepare(config.enabled)
    finally:
        gc.freeze()
        gc.enable()


def _analyse_one(args: tuple[str, Config]) -> FileAnalysis:
    path, config = args
    try:
        analysis = analyse_file(path, config, _display(path))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - libcst's panics are BaseExceptions
        # A crash outside the checks (the parser, the engine itself): this file is
        # lost, as a finding, and the run goes on, in this process or a worker alike.
        message = (
            f"the linter crashed while reading this file ({type(error).__name__}: {error}), "
            "so it was not linted (please report this)"
        )
        return replace(crashed(_display(path), config.enabled_for(path), message), cacheable=False)
    _release_after(path)
    return analysis


def _analyse_here(args: tuple[str, Config]) -> FileAnalysis:
    """``_analyse_one`` in this process, its result copied as a worker's would be.

    The analysis is built while the file's syntax tree is alive, so its few objects lie
    scattered among the tree's hundred thousand, and keep the memory that held the tree
    from being given back when it is freed: in one process that made the memory of a
    run grow by about 15 KB a file (on the transformers/timm corpus, for about 4 KB of
    analysis). The copy, made once the tree is freed, packs into the memory already in
    use (a pickle of a few KB: the summary's parts are bytes).
    """
    return pickle.loads(pickle.dumps(_analyse_one(args), pickle.HIGHEST_PROTOCOL))  # type: ignore[no-any-return]


def _release_after(path: str) -> None:
    """The syntax tree of a large file is freed by now: give its memory back."""
    if _size(path) >= memory.LARGE_FILE:
        memory.release()


def lint_files(
    files: Sequence[str],
    config: Config,
    jobs: Optional[int] = None,
    progress: Optional[Callable[[], None]] = None,
    cache: Optional[Cache] = None,
    *,
    reported: Optional[Collection[str]] = None,
    extra: Sequence[FileAnalysis] = (),
) -> list[FileResult]:
    """Results for every file, sorted by path whatever the number of workers.

    Files are analysed one by one (in parallel when there are many); the cross-file
    rules then run once over all of them. With a cache, files whose content and path
    are unchanged are not analysed again, and a run where nothing changed returns the
    previous results.

    ``reported`` (some of ``files``) limits the results to those files: the others are
    only context for the cross-file rules. ``extra`` are analyses made elsewhere (a
    source read from stdin), analysed with the files and always reported.
    """
    with _few_collections(), _Spill(len(files)) as spill:
        results = _lint_files(files, config, jobs, progress, cache, spill, extra)
    if reported is None:
        return results
    shown = {_display(path) for path in reported} | {analysis.path for analysis in extra}
    return [result for result in results if result.path in shown]


class _Spill:
    """Where the summaries of a large run wait for the cross-file rules: their pickles
    go to a temporary file as each file's analysis arrives, so that the memory of the
    run does not grow with the number of files (the index reads them back one part at a
    time). A small run keeps them in memory. What stays in memory, the names each file
    defines and imports, shares its strings with the other files' (the same few
    thousand names recur: on the transformers/timm corpus, 180,000 strings, 29,000
    distinct, 11.5 MB shared down to 2.3 MB).

    Where no temporary file can be made or written (no room, no permission), the
    summaries stay in memory from then on: the run takes more memory, and goes on."""

    def __init__(self, count: int) -> None:
        self._made: Optional[SpillFile] = None
        if count >= _SPILL_THRESHOLD:
            try:
                self._made = SpillFile()
            except OSError:
                pass
        self._file = self._made  # None once writing to it failed
        self._strings: dict[str, str] = {}
        # Each file's enabled codes, one set per distinct set: unpickled, every file
        # brought a copy of its own (about 2.7 KB).
        self._enabled: dict[frozenset[str], frozenset[str]] = {}

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *_: object) -> None:
        if self._made is not None:
            self._made.close()

    def __call__(self, analysis: FileAnalysis) -> FileAnalysis:
        from dropout_lint.project.summary import PackedSummary

        enabled = self._enabled.setdefault(analysis.enabled, analysis.enabled)
        if enabled is not analysis.enabled:
            analysis = replace(analysis, enabled=enabled)
        summary = analysis.summary
        if isinstance(summary, PackedSummary):
            share_strings(summary, self._strings)
            if self._file is not None:
                try:
                    for blob in summary.blobs():
                        blob.spill(self._file)
                except OSError:
                    self._file = None  # what it holds stays readable until __exit__
        return analysis


def _lint_files(
    files: Sequence[str],
    config: Config,
    jobs: Optional[int],
    progress: Optional[Callable[[], None]],
    cache: Optional[Cache],
    spill: _Spill,
    extra: Sequence[FileAnalysis],
) -> list[FileResult]:
    keys = _keys(files, cache, config) if cache is not None else {}
    run_key = None
    if cache is not None and len(keys) == len(files) and not extra:
        run_key = cache.run_key([keys[path] for path in files])
        previous = cache.load_run(run_key)
        if previous is not None and len(previous) == len(files):
            if progress is not None:
                for _ in files:
                    progress()
            return previous
    analyses: list[FileAnalysis] = []
    todo = []
    for path in files:
        key = keys.get(path)
        hit = cache.load_file(key) if cache is not None and key is not None else None
        if hit is not None:
            analyses.append(spill(hit))
            if progress is not None:
                progress()
        else:
            todo.append(path)
    if todo:
        prepare(config)
    fresh = _analyse(todo, config, jobs, progress, spill)
    analyses.extend(fresh)
    analyses.extend(spill(analysis) for analysis in extra)
    analyses.sort(key=lambda a: a.path)
    results = finish(analyses, config)
    if cache is not None:
        # Stored after the cross-file rules ran, so that the places they reported carry
        # their positions, and the next run need not parse the file again for them.
        by_shown = {_display(path): keys.get(path) for path in todo}
        for analysis in fresh:
            key = by_shown.get(analysis.path)
            if key is not None and analysis.cacheable:
                cache.store_file(key, analysis)
        if run_key is not None and all(a.cacheable for a in analyses):
            cache.store_run(run_key, results)
    return results


@contextmanager
def _few_collections() -> Iterator[None]:
    """Collect garbage rarely while files are linted.

    Each parse makes a hundred thousand objects that live as long as their file's
    analysis, long enough to be promoted to the oldest generation; with the default
    thresholds that set off a full collection every few files, each scanning every
    result kept so far (and so does loading thousands of cached summaries). On 800
    transformers/timm files in one process that was 27 % of the time (10.6 s of
    39.3 s); with these thresholds 1 %, at the same peak memory (the trees are freed by
    reference counting). Workers inherit the setting; the caller's is restored.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


def _keys(files: Sequence[str], cache: Cache, config: Config) -> dict[str, str]:
    """The cache key of each regular file that can be read (its content, path and
    display). Pipes and devices are not opened (reading one may block forever), nor
    files above ``max-file-size`` read: they are never cached."""
    keys = {}
    for path in files:
        try:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > config.max_file_size * 1e6:
                continue
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        # The module it is: the ``__init__.py`` files above it decide, and its summary
        # names its classes by it.
        keys[path] = cache.file_key(path, _display(path), data, identify(path).module)
    return keys


def _analyse(
    files: Sequence[str],
    config: Config,
    jobs: Optional[int],
    progress: Optional[Callable[[], None]],
    spill: _Spill,
) -> list[FileAnalysis]:
    jobs = default_jobs() if jobs is None else max(jobs, 1)
    work = [(path, config) for path in files]
    analyses: list[FileAnalysis] = []
    if jobs == 1 or len(work) < _POOL_THRESHOLD:
        _collect(map(_analyse_here, work), analyses, progress, spill)
        return analyses
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    # Largest files first, in small chunks, so that no worker is left with a big file
    # while the others idle at the end (the results are sorted by path afterwards).
    work.sort(key=lambda item: _size(item[0]), reverse=True)
    chunk = max(1, min(8, len(work) // (jobs * 16)))
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            _collect(pool.map(_analyse_one, work, chunksize=chunk), analyses, progress, spill)
    except BrokenProcessPool:
        # A worker died (the native parser crashed on some file): the files not done
        # yet are linted again one at a time, so that only the file that kills its
        # process is lost, as a finding.
        done = {analysis.path for analysis in analyses}
        rest = [path for path, _ in work if _display(path) not in done]
        _collect(_one_at_a_time(rest, config), analyses, progress, spill)
    return analyses


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _one_at_a_time(files: Sequence[str], config: Config) -> Iterator[FileAnalysis]:
    """The files' analyses by one worker process, given one file at a time: when it dies,
    the file it had is the one that killed it, and a new worker takes the rest (a process
    per crash, not per file)."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool: Optional[ProcessPoolExecutor] = None
    try:
        for path in files:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1)
            try:
                yield pool.submit(_analyse_one, (path, config)).result()
            except BrokenProcessPool:
                pool.shutdown()
                pool = None
                message = "the linter's process crashed while reading this file (libcst's parser), so it was not linted"
                yield replace(crashed(_display(path), config.enabled_for(path), message), cacheable=False)
    finally:
        if pool is not None:
            pool.shutdown()


def _collect(
    results: Iterator[FileAnalysis],
    out: list[FileAnalysis],
    progress: Optional[Callable[[], None]],
    spill: _Spill,
) -> None:
    for result in results:
        out.append(spill(result))
        if progress is not None:
            progress()
