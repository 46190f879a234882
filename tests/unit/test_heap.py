"""heap.trim gives freed C-heap memory back to the system (glibc malloc_trim)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from meshtui import heap


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_memory_goes_back_to_the_system():
    # 2 KB blocks come from glibc's heap (not mmap, not pymalloc); the last one pins its
    # top, so freeing the others returns nothing until the heap is trimmed
    blocks = [bytes(2048) + i.to_bytes(4, "little") for i in range(60_000)]
    keep = bytes(2048)
    del blocks[:-1]
    before = rss_mb()
    heap.trim()
    after = rss_mb()
    assert before - after > 50, (before, after)
    heap.trim()  # again: harmless
    del keep
