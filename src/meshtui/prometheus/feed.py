"""The Mesh place's live loop: every refresh, the queries of queries.refresh() at one
instant, their answers joined into one row per service and per edge.

All queries of a refresh are evaluated at the same `time=` (the poll's start), so a row's
figures belong together and a test can ask Prometheus the figures' own queries
(queries.queries()) at the same time and get the same numbers. A quantile over no
requests is NaN in Prometheus: shown as `-`.

The edges' latency is asked for the edges the place draws (`want_latency`); scrolled to
new ones, a small poll between refreshes asks theirs at the refresh's instant and adds
them to its rows (a "top-up": the trends and the refresh's clock are left alone).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from meshtui.live import Freshness, LiveFeed, one_line
from meshtui.prometheus.client import PrometheusClient, PrometheusError, vector
from meshtui.prometheus.queries import (
    EDGE,
    ERROR_RPS,
    FIGURES,
    LATENCY,
    SERVICE,
    Edge,
    Query,
    latency,
    refresh,
)
from meshtui.prometheus.source import PrometheusSource

INTERVAL_S = 5.0  # the scrape interval of Istio's addon Prometheus: faster shows nothing new
TREND_POINTS = 16  # as many as the widest sparkline draws (ui/mesh/table.py TREND_W)


@dataclass(frozen=True, slots=True)
class MeshRow:
    source: str  # the calling workload; "" on a service's own row
    source_namespace: str
    destination: str  # destination_service, the FQDN
    # FIGURES -> value (None: no answer, or NaN); an edge whose latency was not asked (off
    # screen) has no p50_ms/p90_ms/p99_ms keys
    figures: dict[str, float | None]
    trend: tuple[float, ...] = ()  # requests/s at each refresh, oldest first
    key: str = field(init=False, compare=False)  # the row's name in tables and trends

    def __post_init__(self) -> None:
        # worked out once: sorting and keying 10,000 edges reads it ~10 times a refresh
        key = f"{self.source}.{self.source_namespace}>{self.destination}" if self.source else self.destination
        object.__setattr__(self, "key", key)

    @property
    def edge(self) -> Edge:
        return (self.source, self.source_namespace, self.destination)

    def get(self, figure: str) -> float | None:
        return self.figures.get(figure)

    def asked(self, figure: str) -> bool:
        return figure in self.figures

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


Answer = Iterable[tuple[dict[str, str], float]]  # one query's (labels, value) pairs
PARTS = (*FIGURES, *ERROR_RPS.values())  # what a refresh asks: the figures and the shares' parts
Key = tuple[bool, str, str, str]  # (an edge?, source, its namespace, destination)


def share(part: float | None, whole: float | None) -> float | None:
    """`100 * (part or 0 * whole) / whole` as Prometheus evaluates it (float64, left to
    right): the same bits as its answer to the share's query; NaN (no requests) is None."""
    if whole is None:
        return None
    try:
        value = 100 * (part if part is not None else 0 * whole) / whole
    except ZeroDivisionError:  # 0 / 0: NaN in Go (a part is never more than its whole)
        return None
    return None if math.isnan(value) else value


def _collect(answers: Iterable[tuple[Query, Answer]]) -> dict[Key, list[float | None]]:
    found: dict[Key, list[float | None]] = {}
    blank: list[float | None] = [None] * len(PARTS)
    for q, pairs in answers:
        at = PARTS.index(q.figure)
        edge = q.by == EDGE
        for labels, value in pairs:
            get = labels.get
            if edge:
                src, src_ns = get("source_workload", ""), get("source_workload_namespace", "")
                key = (True, src, src_ns, get("destination_service", ""))
            else:
                key = (False, "", "", get("destination_service", ""))
            values = found.get(key)
            if values is None:
                values = found[key] = blank.copy()
            values[at] = None if math.isnan(value) else value
    return found


def rows_of(
    answers: Iterable[tuple[Query, Answer]],
    trends: dict[str, tuple[float, ...]] | None = None,
    latency_for: Collection[Edge] | None = None,
) -> tuple[list[MeshRow], list[MeshRow]]:
    """The answers joined by their labels: (services, edges), in no order (the place sorts).

    With `trends` (key -> the last requests/s), each row's trend gains this refresh's and
    `trends` is updated. `latency_for`: the edges whose latency was asked (None: all); an
    edge outside it that no latency answer names has no latency figures. (Written for
    speed: at 10,000 edges this loop is a third of a refresh's CPU.)"""
    found = _collect(answers)
    rps_at, p50_at, p90_at, p99_at = (PARTS.index(f) for f in ("rps", *LATENCY))
    error_at, client_error_at = (PARTS.index(ERROR_RPS[f]) for f in ("error_pct", "client_error_pct"))
    asked = None if latency_for is None else set(latency_for)
    services: list[MeshRow] = []
    edges: list[MeshRow] = []
    no_trend: tuple[float, ...] = ()
    for (edge, src, src_ns, dest), v in found.items():
        rps = v[rps_at]
        figures = {
            "rps": rps,
            "error_pct": share(v[error_at], rps),
            "client_error_pct": share(v[client_error_at], rps),
        }
        p50, p90, p99 = v[p50_at], v[p90_at], v[p99_at]
        if (
            not edge
            or asked is None
            or (src, src_ns, dest) in asked
            or p50 is not None
            or p90 is not None
            or p99 is not None
        ):
            figures["p50_ms"], figures["p90_ms"], figures["p99_ms"] = p50, p90, p99
        trend = no_trend
        if trends is not None:
            key = f"{src}.{src_ns}>{dest}" if edge else dest  # MeshRow.key
            trend = (*trends.get(key, no_trend)[1 - TREND_POINTS :], math.nan if rps is None else rps)
            trends[key] = trend
        (edges if edge else services).append(MeshRow(src, src_ns, dest, figures, trend))
    return services, edges


async def read_mesh(
    client: PrometheusClient,
    window: str,
    at: float,
    trends: dict[str, tuple[float, ...]] | None = None,
    latency_for: Collection[Edge] | None = None,
) -> tuple[list[MeshRow], list[MeshRow]]:
    """One refresh: every query at `at`; the answers read and joined in a thread, so the
    keys stay quick while 10,000 edges are parsed (~1.7 MB of JSON an answer)."""
    qs = refresh(window, latency_for)
    responses = await asyncio.gather(*(client.fetch(q.expr, at) for q in qs))

    def join() -> tuple[list[MeshRow], list[MeshRow]]:
        answers = ((q, vector(r, client.url, q.expr)) for q, r in zip(qs, responses, strict=True))
        return rows_of(answers, trends, latency_for)

    return await asyncio.to_thread(join)


async def read_latency(
    client: PrometheusClient, window: str, at: float, edges: Collection[Edge]
) -> dict[Edge, dict[str, float | None]]:
    """The latency figures of `edges` (and of any other edge the selector answers) at `at`;
    a listed edge with no answer gets None (no requests in the window)."""
    qs = latency(window, edges)
    responses = await asyncio.gather(*(client.fetch(q.expr, at) for q in qs))
    out: dict[Edge, dict[str, float | None]] = {e: dict.fromkeys(LATENCY) for e in edges}
    for q, r in zip(qs, responses, strict=True):
        for labels, value in vector(r, client.url, q.expr):
            edge = (
                labels.get("source_workload", ""),
                labels.get("source_workload_namespace", ""),
                labels.get("destination_service", ""),
            )
            out.setdefault(edge, dict.fromkeys(LATENCY))[q.figure] = None if math.isnan(value) else value
    return out


class MeshFeed(LiveFeed[MeshUpdate]):
    errors: ClassVar[tuple[type[Exception], ...]] = (PrometheusError, ValueError, OSError)

    def __init__(self, source: PrometheusSource, interval: float = INTERVAL_S, window: str = "1m") -> None:
        super().__init__(interval)
        self.source = source
        self.window = window
        self._client: PrometheusClient | None = None
        self._trends: dict[str, tuple[float, ...]] = {}
        self._on_screen: frozenset[Edge] = frozenset()  # the edges whose latency the place draws
        self._last: MeshUpdate | None = None
        self._last_started = 0.0  # monotonic start of the last full refresh

    def set_window(self, window: str) -> None:
        self.window = window
        self._trends = {}  # another window's rates: a new line (a poll under way keeps its own)
        self._last = None
        self.poll_now()

    def want_latency(self, edges: Collection[Edge]) -> None:
        """The edges the place draws now; those the last refresh did not ask are asked at once."""
        self._on_screen = frozenset(edges)
        if self._missing():
            self.poll_now()

    def _missing(self) -> set[Edge]:
        if self._last is None or self._last.error:
            return set()
        have = {r.edge for r in self._last.edges if r.asked("p50_ms")}
        return {e for e in self._on_screen if e not in have}

    def next_due(self, started: float) -> float:
        # a top-up between refreshes leaves the refreshes' clock alone
        return self._last_started + (self.interval or 0.0)

    async def poll(self, started: float) -> MeshUpdate:
        client = await self._connect()
        last, missing = self._last, self._missing()
        due = self._last_started + (self.interval or 0.0)
        if last is not None and missing and last.window == self.window and started < due:
            return await self._top_up(client, last, missing)
        self._last_started = started
        at = time.time()
        window, on_screen = self.window, self._on_screen
        services, edges = await read_mesh(client, window, at, self._trends, on_screen)
        self._last = MeshUpdate(
            tuple(services),
            tuple(edges),
            window,
            at,
            self.source.describe(),
            (time.monotonic() - started) * 1000,
        )
        return self._last

    async def _top_up(self, client: PrometheusClient, last: MeshUpdate, missing: set[Edge]) -> MeshUpdate:
        found = await read_latency(client, last.window, last.at, missing)
        edges = tuple(
            MeshRow(r.source, r.source_namespace, r.destination, {**r.figures, **found[r.edge]}, r.trend)
            if r.edge in found
            else r
            for r in last.edges
        )
        self._last = MeshUpdate(last.services, edges, last.window, last.at, last.where, last.fetch_ms)
        return self._last

    async def _connect(self) -> PrometheusClient:
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
        return self._client

    def failed(self, reason: str) -> MeshUpdate:
        self._last = None
        return MeshUpdate(window=self.window, where=self.source.describe(), error=reason)

    async def disconnect(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
        await self.source.forget()

    async def close(self) -> None:
        await self.disconnect()
        await self.source.close()


__all__ = ["EDGE", "SERVICE", "MeshFeed", "MeshRow", "MeshUpdate", "read_mesh", "rows_of", "share"]
