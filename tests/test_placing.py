"""Placing cross-file findings: the files they point into are parsed again, in a pool's
workers when there is one, here otherwise, and here again when a worker fails."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Callable

import libcst as cst

from dropout_lint.analysis.syntax import iter_nodes
from dropout_lint.config import Config
from dropout_lint.engine import analyse_text
from dropout_lint.placing import Placer, spans_in
from dropout_lint.project.summary import PackedSummary, Place
from dropout_lint.source import parse_module

CODE = """import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)
"""


class _Counting(ThreadPoolExecutor):
    """A pool that counts what it is given."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


class _Broken(ThreadPoolExecutor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise BrokenProcessPool("a worker died")


class _Failing(ThreadPoolExecutor):
    """Every job fails, as one whose worker died does."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_exception(BrokenProcessPool("a worker died"))
        return future


def _analysis(tmp_path: Path, name: str = "net.py") -> Any:
    path = tmp_path / name
    path.write_text(CODE, encoding="utf-8")
    return analyse_text(CODE, name, Config(), real_path=str(path))


def _ranks(*kinds: type) -> list[int]:
    return [rank for rank, node in enumerate(iter_nodes(parse_module(CODE))) if type(node) in kinds]


def _places(analysis: Any) -> list[Place]:
    return [Place(analysis.path, rank) for rank in _ranks(cst.ClassDef, cst.Call)]


def _placed(tmp_path: Path, executor: Any) -> list[tuple[int, int, int, int]]:
    analysis = _analysis(tmp_path)
    places = _places(analysis)
    placer = Placer([analysis], executor)
    placer.add(places)
    placer.finish()
    return [(p.line, p.column, p.end_line, p.end_column) for p in places]


def test_the_ranks_of_a_file_give_the_positions_of_its_nodes() -> None:
    class_rank, call_rank = _ranks(cst.ClassDef)[0], _ranks(cst.Call)[-1]
    spans = spans_in(None, CODE, [class_rank, call_rank, 10_000])
    assert (spans[class_rank].line, spans[class_rank].column) == (4, 0)
    assert (spans[call_rank].line, spans[call_rank].column) == (7, 20)  # nn.Dropout(0.5)
    assert 10_000 not in spans
    assert spans_in(None, "def broken(:\n", [0]) == {}
    assert spans_in("/no/such/file.py", None, [0]) == {}


def test_a_pool_places_the_findings_as_this_process_does(tmp_path: Path) -> None:
    here = _placed(tmp_path, None)
    assert here and all(line > 0 for line, *_ in here)
    with _Counting() as pool:
        assert _placed(tmp_path, pool) == here
        assert pool.submitted == 1  # one parse for the file, however many places


def test_a_broken_pool_or_a_lost_worker_leaves_the_parse_to_this_process(tmp_path: Path) -> None:
    here = _placed(tmp_path, None)
    for executor in (_Broken(), _Failing()):
        with executor:
            assert _placed(tmp_path, executor) == here


def test_positions_are_kept_in_the_summary_for_the_next_run(tmp_path: Path) -> None:
    analysis = _analysis(tmp_path)
    assert isinstance(analysis.summary, PackedSummary)
    first = _places(analysis)
    placer = Placer([analysis])
    placer.add(first)
    placer.finish()
    assert set(analysis.summary.spans) == {place.index for place in first}
    (tmp_path / "net.py").write_text("", encoding="utf-8")  # not read again
    with _Counting() as pool:
        again = _places(analysis)
        placer = Placer([analysis], pool)
        placer.add(again)
        placer.finish()
        assert pool.submitted == 0
    assert [p.span for p in again] == [p.span for p in first]


def test_a_file_changed_since_it_was_read_keeps_its_findings_unplaced(tmp_path: Path) -> None:
    analysis = _analysis(tmp_path)
    (tmp_path / "net.py").write_text("def broken(:\n", encoding="utf-8")
    places = _places(analysis)
    with _Counting() as pool:
        placer = Placer([analysis], pool)
        placer.add(places)
        placer.finish()
    assert all(place.line == 0 for place in places)
