"""Give the C heap's free memory back to the system (glibc's `malloc_trim`).

Each refresh allocates and frees bodies and tables of a megabyte or so; glibc keeps
freed chunks for reuse and returns only the top of its heap, so over a long session
the process's RSS crept up by ~0.5 MB a minute at 50,000 stats (bench/soak.py) while
little of it was in use. `malloc_trim(0)` releases free pages anywhere in the heap.
A no-op where there is no glibc.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_loaded = False


def trim() -> None:
    global _trim, _loaded
    if not _loaded:
        _loaded = True
        if sys.platform.startswith("linux"):
            import ctypes  # here, not at the top: 2 ms of the cold start, for a call a minute later

            try:
                _trim = ctypes.CDLL("libc.so.6").malloc_trim
            except (OSError, AttributeError):  # musl and others have no malloc_trim
                _trim = None
    if _trim is not None:
        _trim(0)
