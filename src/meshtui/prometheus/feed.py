"""The Mesh place's live loop: every refresh, the twelve queries of queries.py at one
instant, their answers joined into one row per service and per edge.

All queries of a refresh are evaluated at the same `time=` (the poll's start), so a row's
figures belong together and a test can ask Prometheus the same queries at the same time
and get the same numbers. A quantile over no requests is NaN in Prometheus: shown as `-`.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from meshtui.live import Freshness, LiveFeed, one_line
from meshtui.prometheus.client import PrometheusClient, PrometheusError, Sample
from meshtui.prometheus.queries import EDGE, FIGURES, SERVICE, Query, queries
from meshtui.prometheus.source import PrometheusSource

INTERVAL_S = 5.0  # the scrape interval of Istio's addon Prometheus: faster shows nothing new
TREND_POINTS = 60


@dataclass(frozen=True, slots=True)
class MeshRow:
    source: str  # the calling workload; "" on a service's own row
    source_namespace: str
    destination: str  # destination_service, the FQDN
    figures: dict[str, float | None]  # FIGURES -> value (None: no answer, or NaN)
    trend: tuple[float, ...] = ()  # requests/s at each refresh, oldest first

    @property
    def key(self) -> str:
        if not self.source:
            return self.destination
        return f"{self.source}.{self.source_namespace}>{self.destination}"

    def get(self, figure: str) -> float | None:
        return self.figures.get(figure)

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "source_namespace": self.source_namespace,
            "destination": self.destination,
            **{f: (None if v is None else round(v, 6)) for f, v in self.figures.items()},
        }


@dataclass(frozen=True)
class MeshUpdate:
    services: tuple[MeshRow, ...] = ()
    edges: tuple[MeshRow, ...] = ()
    window: str = "1m"
    at: float = 0.0  # the instant every query was evaluated at (unix seconds)
    where: str = ""  # which Prometheus
    fetch_ms: float = 0.0
    error: str = ""
    freshness: Freshness = field(default_factory=Freshness)


def _key(by: tuple[str, ...], labels: dict[str, str]) -> tuple[str, str, str]:
    if by == SERVICE:
        return ("", "", labels.get("destination_service", ""))
    return (
        labels.get("source_workload", ""),
        labels.get("source_workload_namespace", ""),
        labels.get("destination_service", ""),
    )


def rows_of(answers: Iterable[tuple[Query, list[Sample]]]) -> tuple[list[MeshRow], list[MeshRow]]:
    """The answers joined by their labels: (services, edges), each sorted by name."""
    found: dict[tuple[tuple[str, ...], tuple[str, str, str]], dict[str, float | None]] = {}
    for q, samples in answers:
        for s in samples:
            figures = found.setdefault((q.by, _key(q.by, s.labels)), dict.fromkeys(FIGURES))
            figures[q.figure] = None if math.isnan(s.value) else s.value
    services: list[MeshRow] = []
    edges: list[MeshRow] = []
    for (by, (src, src_ns, dest)), figures in sorted(found.items()):
        row = MeshRow(src, src_ns, dest, figures)
        (services if by == SERVICE else edges).append(row)
    return services, edges


async def read_mesh(client: PrometheusClient, window: str, at: float) -> tuple[list[MeshRow], list[MeshRow]]:
    """One refresh: every query at `at`, concurrently."""
    qs = queries(window)
    answers = await asyncio.gather(*(client.query(q.expr, at) for q in qs))
    return rows_of(zip(qs, answers, strict=True))


class MeshFeed(LiveFeed[MeshUpdate]):
    errors: ClassVar[tuple[type[Exception], ...]] = (PrometheusError, ValueError, OSError)

    def __init__(self, source: PrometheusSource, interval: float = INTERVAL_S, window: str = "1m") -> None:
        super().__init__(interval)
        self.source = source
        self.window = window
        self._client: PrometheusClient | None = None
        self._trends: dict[str, deque[float]] = {}

    def set_window(self, window: str) -> None:
        self.window = window
        self._trends.clear()  # another window's rates: a new line
        self.poll_now()

    async def poll(self, started: float) -> MeshUpdate:
        try:
            url = await self.source.url()
        except PrometheusError:
            raise
        except Exception as exc:  # a forward that cannot start, and the like
            raise PrometheusError(f"Prometheus unreachable: {one_line(exc)[:160]}") from exc
        if self._client is None or self._client.url != url:
            if self._client is not None:
                await self._client.aclose()
            self._client = PrometheusClient(url)
        at = time.time()
        window = self.window
        services, edges = await read_mesh(self._client, window, at)
        return MeshUpdate(
            tuple(self._with_trend(services)),
            tuple(self._with_trend(edges)),
            window,
            at,
            self.source.describe(),
            (time.monotonic() - started) * 1000,
        )

    def _with_trend(self, rows: list[MeshRow]) -> list[MeshRow]:
        out = []
        for row in rows:
            trend = self._trends.setdefault(row.key, deque(maxlen=TREND_POINTS))
            rps = row.get("rps")
            trend.append(rps if rps is not None else math.nan)
            out.append(replace(row, trend=tuple(trend)))
        return out

    def failed(self, reason: str) -> MeshUpdate:
        return MeshUpdate(window=self.window, where=self.source.describe(), error=reason)

    async def disconnect(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
        await self.source.forget()

    async def close(self) -> None:
        await self.disconnect()
        await self.source.close()


__all__ = ["EDGE", "SERVICE", "MeshFeed", "MeshRow", "MeshUpdate", "read_mesh", "rows_of"]
