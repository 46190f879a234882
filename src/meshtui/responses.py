"""Let go of an httpx response's body as soon as the caller does.

httpx binds a response and its stream to each other (`BoundAsyncStream(response=...)`,
`response.stream = ...`), a reference cycle that outlives the read: the response, its
bytes and its decoded text then wait for Python's cyclic GC. meshtui tunes that GC to
run rarely (ui/app.py), so each second's `/stats` bodies (150 KB-1 MB) piled up until a
full pass, and a 30-minute run at 50,000 stats grew 11% (bench/soak.py; tracemalloc
showed ~80 bodies, 24 MB, waiting). Once the body is read the stream is spent, so
replacing it breaks the cycle and the body goes when the last reference does.
"""

from __future__ import annotations

import httpx

_SPENT = httpx.ByteStream(b"")


def released(response: httpx.Response) -> httpx.Response:
    """The response, its body read, no longer bound to its stream."""
    response.stream = _SPENT
    return response
