"""libcst's nodes built without validating them, in the thread that parses only.

Every libcst node checks its own fields when constructed (``CSTNode.__post_init__`` calls
``_validate``), which guards trees built by hand; the parser builds only valid ones, and
the checks cost about a tenth of its time (libcst's own comment there says as much).

``CSTNode.__post_init__`` is a class attribute, shared by every thread of the process, so
it is replaced only while some thread parses, by a function that skips the checks for
the threads inside ``unchecked`` and runs them for every other thread; the last thread
to leave puts the original back. A host that builds nodes in another thread meanwhile
(a codemod, an editor) keeps its validation, and after the parses libcst is as it was.
The replacement also lets the file's time bound (``budget``) interrupt a long parse.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Callable

import libcst as cst

from dropout_lint import budget


class _Parsing(threading.local):
    inside = False  # whether this thread is in ``unchecked``


_parsing = _Parsing()
# Nodes built unchecked, by all threads: every EVERY-th looks at its thread's time bound
# (one count for all is cheaper than one per thread, and as good for a bound).
_built = itertools.count()
_EVERY = budget.EVERY
_lock = threading.Lock()
_users = 0  # threads inside ``unchecked``
# CSTNode.__post_init__ as the first of them found it (kept after the last leaves: a
# thread may be about to call it through the replacement it looked up just before).
_original: Callable[[Any], None] = cst.CSTNode.__post_init__


def _post_init(node: Any) -> None:
    if _parsing.inside:
        if not next(_built) % _EVERY:
            budget.check()
        return
    _original(node)


@contextmanager
def unchecked() -> Iterator[None]:
    """Nodes built by this thread inside the block are not validated."""
    global _users, _original
    node_class: Any = cst.CSTNode
    with _lock:
        if _users == 0:
            _original = node_class.__post_init__
            node_class.__post_init__ = _post_init
        _users += 1
    was_inside = _parsing.inside
    _parsing.inside = True
    try:
        yield
    finally:
        _parsing.inside = was_inside
        with _lock:
            _users -= 1
            if _users == 0:
                node_class.__post_init__ = _original
