"""The library path (``lint_source``, the flake8 plugin) changes nothing in its host's
process: libcst validates the nodes other threads build, and the host's timer runs on."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator

import libcst as cst
import pytest

from dropout_lint import lint_source
from dropout_lint.diagnostics import Diagnostic
from dropout_lint.unchecked import unchecked

from tests.test_hostile import BUG


@pytest.fixture
def host_timer() -> Iterator[list[int]]:
    """A timer of the host's own, as pytest-timeout or an application sets one."""
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    signal.setitimer(signal.ITIMER_REAL, 60)
    try:
        yield fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_four_threads_leave_validation_and_the_hosts_timer_intact(host_timer: list[int]) -> None:
    validate = cst.CSTNode.__post_init__
    source = BUG * 40
    expected = lint_source(source)  # in the main thread, where a signal timer could be set
    assert expected and signal.getitimer(signal.ITIMER_REAL)[0] > 0
    results: list[list[Diagnostic]] = []

    def lint() -> None:
        for _ in range(3):
            results.append(lint_source(source))

    threads = [threading.Thread(target=lint) for _ in range(4)]
    for thread in threads:
        thread.start()
    lint()
    for thread in threads:
        thread.join()
    differing = [result for result in results if result != expected]
    assert len(results) == 15 and not differing, _difference(expected, differing[0] if differing else [])
    remaining, _ = signal.getitimer(signal.ITIMER_REAL)
    assert 0 < remaining <= 60 and not host_timer
    assert cst.CSTNode.__post_init__ is validate
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def _difference(expected: list[Diagnostic], found: list[Diagnostic]) -> str:
    """What one thread's findings lack and add against the main thread's."""
    missing = [d for d in expected if d not in found]
    extra = [d for d in found if d not in expected]
    return f"missing {missing[:3]}, extra {extra[:3]} ({len(found)} found, {len(expected)} expected)"


def test_another_thread_validates_its_nodes_while_one_parses() -> None:
    inside = threading.Event()
    done = threading.Event()

    def parse() -> None:
        with unchecked():
            cst.Name("")  # not validated: the parser builds only valid nodes
            inside.set()
            done.wait(10)

    thread = threading.Thread(target=parse)
    thread.start()
    try:
        assert inside.wait(10)
        with pytest.raises(cst.CSTValidationError):
            cst.Name("")
    finally:
        done.set()
        thread.join()
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")
