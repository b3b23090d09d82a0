"""The time one file may take (``file-timeout``), counted in its thread's CPU time.

The bound reads the CPU clock of the thread that lints the file (``time.thread_time``),
not the wall clock: a file takes about the same CPU time on a busy machine as on an idle
one, so a loaded CI runner does not change which files time out, and time spent waiting
(for the disk, for another thread to give up the interpreter) does not count.

It sets no timer and no signal handler, so it is safe in any thread of any host (a
flake8 worker, an editor) and leaves the host's own timers alone: the engine asks
``check`` at points of its own, every few thousand nodes that the parser builds or the
walker visits and between the phases of a file, and the bound then raises ``TimedOut``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Optional

# How many nodes the parser builds, or the walker visits, between two looks at the clock
# (a look costs a system call; a few thousand nodes take about a millisecond).
EVERY = 4096


class TimedOut(BaseException):
    """The file's time is up (a BaseException, so that the walker's guard against crashing
    checks, which catches Exception, does not swallow it)."""


class _Deadline(threading.local):
    at: Optional[float] = None  # this thread's CPU clock reading when its time is up


_deadline = _Deadline()


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Let ``check`` raise ``TimedOut`` in this thread once it has used ``seconds`` of CPU
    time inside the block (no bound for zero or less)."""
    previous = _deadline.at
    _deadline.at = time.thread_time() + seconds if seconds > 0 else None
    try:
        yield
    finally:
        _deadline.at = previous


def check() -> None:
    """Raise ``TimedOut`` if this thread's bound is spent."""
    at = _deadline.at
    if at is not None and time.thread_time() > at:
        raise TimedOut
