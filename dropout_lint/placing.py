"""Where the cross-file findings are: the files they point into are parsed again.

A summary names a node by its rank in the engine's traversal, not by its position
(positions cost a pass over the whole tree, and few nodes are ever reported), so the
places of a cross-file finding get their line and column from a second parse of their
file. With a pool of workers, each file is parsed in a worker as soon as the rule that
found something in it is done, while the main process goes on with the next rules;
without one, the files are parsed here once the rules are done. The positions are noted
in the file's summary, which the cache keeps, so a later run finds them there and parses
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Optional

import libcst as cst

from dropout_lint.diagnostics import Span
from dropout_lint.source import decode_source, parse_module

if TYPE_CHECKING:
    from concurrent.futures import Executor, Future

    from dropout_lint.engine import FileAnalysis
    from dropout_lint.project.summary import Place


def spans_in(path: Optional[str], text: Optional[str], ranks: Sequence[int]) -> dict[int, Span]:
    """The spans of the nodes of ranks ``ranks`` in a file, read from ``path`` or given
    as ``text``; empty when the file cannot be read or no longer parses."""
    from dropout_lint.project.summary import spans_at

    if text is None and path is not None:
        try:
            with open(path, "rb") as handle:
                text, _ = decode_source(handle.read())
        except OSError:
            return {}
    if text is None:
        return {}
    try:
        module = parse_module(text)
    except (cst.ParserSyntaxError, RecursionError, MemoryError, ValueError):
        return {}  # changed since it was read: the findings keep no position
    return spans_at(module, ranks)


class Placer:
    """Gives the places of findings their positions, a rule's findings at a time."""

    def __init__(self, analyses: Sequence[FileAnalysis], executor: Optional[Executor] = None) -> None:
        self._sources = {analysis.path: analysis for analysis in analyses}
        self._executor = executor
        self._jobs: list[tuple[FileAnalysis, list[Place], Optional[Future[dict[int, Span]]]]] = []

    def add(self, places: Iterable[Place]) -> None:
        """Places a rule reported: those the summaries already know get their position
        now, the others wait for a parse of their file (started now with a pool)."""
        by_path: dict[str, list[Place]] = {}
        for place in places:
            if place.line == 0:
                by_path.setdefault(place.path, []).append(place)
        for path, found in by_path.items():
            analysis = self._sources.get(path)
            if analysis is None:
                continue
            known = _known(analysis)
            missing = []
            for place in found:
                span = known.get(place.index)
                if span is None:
                    missing.append(place)
                else:
                    place.set_span(span)
            if missing:
                self._jobs.append((analysis, missing, self._submit(analysis, missing)))

    def finish(self) -> None:
        """Waits for the parses started, and runs the others here."""
        jobs, self._jobs = self._jobs, []
        for analysis, missing, future in jobs:
            spans = None
            if future is not None:
                try:
                    spans = future.result()
                except Exception:  # the worker was lost: parse the file here instead
                    spans = None
            if spans is None:
                spans = spans_in(*_where(analysis), [place.index for place in missing])
            known = _known(analysis)
            for place in missing:
                span = spans.get(place.index)
                if span is not None:
                    place.set_span(span)
                    known[place.index] = span

    def _submit(self, analysis: FileAnalysis, missing: list[Place]) -> Optional[Future[dict[int, Span]]]:
        if self._executor is None:
            return None
        try:
            return self._executor.submit(spans_in, *_where(analysis), [place.index for place in missing])
        except Exception:  # a broken or closed pool: the file is parsed here in finish()
            return None


def _known(analysis: FileAnalysis) -> dict[int, Span]:
    from dropout_lint.project.summary import PackedSummary

    summary = analysis.summary
    return summary.spans if isinstance(summary, PackedSummary) else {}


def _where(analysis: FileAnalysis) -> tuple[Optional[str], Optional[str]]:
    """The file to read, or the text itself when it is not a file of its own (standard
    input, a notebook's code)."""
    if analysis.real_path is not None:
        return analysis.real_path, None
    return None, "\n".join(analysis.lines) if analysis.lines else None
