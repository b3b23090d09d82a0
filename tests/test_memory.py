import sys

import pytest

from dropout_lint import memory

glibc = pytest.mark.skipif(
    memory._malloc_trim() is None, reason="no malloc_trim in this C library (glibc only)"
)


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def test_release_is_harmless_where_there_is_nothing_to_give_back():
    memory.release()
    memory.release()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@glibc
def test_release_gives_freed_heap_memory_back():
    # 100 KB blocks come from the C heap (below malloc's mmap threshold); keeping every
    # tenth alive pins the heap, so freeing the rest gives nothing back by itself.
    blocks = [bytearray(100_000) for _ in range(800)]
    kept = blocks[::10]
    del blocks
    before = _rss_mb()
    memory.release()
    after = _rss_mb()
    assert len(kept) == 80
    assert before - after > 40, (before, after)
