"""The Traces place's search, on the one live loop (meshtui/live.py): run on demand, or
repeated every few seconds while the place is shown (auto-refresh). When Jaeger stops
answering, the results go stale as any live view's do, and the search is retried."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import ClassVar

from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.jaeger.model import JaegerFormatError, Trace
from meshtui.jaeger.query import TraceQuery
from meshtui.live import Freshness, LiveFeed

AUTO_REFRESH_S = 5.0


@dataclass(frozen=True, slots=True)
class TraceSearch:
    query: TraceQuery
    traces: tuple[Trace, ...] = ()
    error: str = ""  # Jaeger did not answer: the one line the place shows
    at: float = 0.0  # wall-clock time of the answer
    freshness: Freshness = field(default_factory=Freshness)


class SearchFeed(LiveFeed[TraceSearch]):
    """One search, polled when woken (`interval=None`) or every `interval` seconds."""

    errors: ClassVar[tuple[type[Exception], ...]] = (JaegerError, JaegerFormatError)

    def __init__(
        self,
        client: Callable[[], Awaitable[JaegerClient]],
        query: TraceQuery,
        interval: float | None = None,
        explain: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(interval)
        query.check()  # a bad query is the user's to fix, not a source to retry
        self.client, self.query, self.clock = client, query, clock
        self._explain = explain

    async def poll(self, started: float) -> TraceSearch:
        client = await self.client()
        traces = await client.find_traces(self.query)
        return TraceSearch(self.query, tuple(traces), at=self.clock())

    def failed(self, reason: str) -> TraceSearch:
        return TraceSearch(self.query, error=reason, at=self.clock())

    def explain(self, error: str) -> str:
        return self._explain(error) if self._explain is not None else error
