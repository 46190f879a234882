"""The live feed behind the Control plane place, on the one live loop (meshtui/live.py).

Every interval: the replicas (pods app=istiod), each replica's /metrics and
/debug/syncz, parsed off the event loop, summarised against the previous poll, and one
immutable IstiodUpdate yielded. When no replica answers, the update is a failure: the
place goes stale like any live view, and the first rate after the outage comes from two
answered polls, never across the gap.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from meshtui.istiod.browser import MetricRow, RowsCache, metric_rows
from meshtui.istiod.client import MonitoringClient
from meshtui.istiod.metrics import IstiodError, Scrape, ScrapeParser, merge
from meshtui.istiod.source import IstiodSource
from meshtui.istiod.summary import Summary, summarise_replicas
from meshtui.istiod.syncz import ProxySync, parse_syncz, sort_rows, with_rejects
from meshtui.live import Freshness, LiveFeed, one_line

TREND_POINTS = 180  # three minutes at one poll a second


@dataclass(frozen=True, slots=True)
class ReplicaState:
    name: str
    summary: Summary | None
    error: str = ""  # why this replica's /metrics could not be read
    syncz_error: str = ""


@dataclass(frozen=True)
class Trends:
    """The headline figures over the last few minutes, oldest first (NaN: no value)."""

    pushes_per_s: tuple[float, ...] = ()
    convergence_p99: tuple[float, ...] = ()
    rejects_per_s: tuple[float, ...] = ()


@dataclass(frozen=True)
class IstiodUpdate:
    replicas: tuple[ReplicaState, ...] = ()
    total: Summary | None = None
    proxies: tuple[ProxySync, ...] = ()
    metrics: dict[str, MetricRow] = field(default_factory=dict)
    trends: Trends = Trends()
    error: str = ""  # nothing could be read: the one line the pane shows
    fetch_ms: float = 0.0
    freshness: Freshness = field(default_factory=Freshness)

    def without_changes(self) -> IstiodUpdate:
        """The last figures as a stale place shows them: no rate, no last-interval percentile."""
        return dataclasses.replace(
            self,
            replicas=tuple(
                dataclasses.replace(r, summary=r.summary.without_rates() if r.summary else None)
                for r in self.replicas
            ),
            total=self.total.without_rates() if self.total else None,
            metrics={k: dataclasses.replace(m, rate=None) for k, m in self.metrics.items()},
        )


@dataclass
class _Poll:
    name: str
    scrape: Scrape | None = None
    proxies: tuple[ProxySync, ...] = ()
    error: str = ""
    syncz_error: str = ""


@dataclass
class _Replica:
    """What the loop keeps per replica between polls, so unchanged text is not parsed again."""

    parser: ScrapeParser = field(default_factory=ScrapeParser)
    syncz_body: str | None = None
    proxies: tuple[ProxySync, ...] = ()


def _parse_both(
    name: str, metrics: str | None, syncz: str | None, taken: float, poll: _Poll, kept: _Replica
) -> None:
    """The CPU part, run in a thread: 5,000 series take tens of milliseconds."""
    if metrics is not None:
        try:
            poll.scrape = kept.parser.parse(metrics, taken)
        except IstiodError as exc:
            poll.error = f"{name}: {exc}"
            kept.parser = ScrapeParser()
    if syncz is not None:
        try:
            if syncz != kept.syncz_body:  # nonces change on pushes only
                kept.proxies, kept.syncz_body = parse_syncz(syncz, name), syncz
            poll.proxies = kept.proxies
        except IstiodError as exc:
            poll.syncz_error = f"{name} /debug/syncz: {exc}"


class IstiodFeed(LiveFeed[IstiodUpdate]):
    errors: ClassVar[tuple[type[Exception], ...]] = (IstiodError,)

    def __init__(
        self, source: IstiodSource, interval: float = 1.0, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(interval)
        self.source = source
        self.clock = clock
        self._clients: dict[str, MonitoringClient] = {}
        self.urls: dict[str, str] = {}  # replica -> its monitoring URL, from the last poll
        self._previous: dict[str, Scrape] = {}
        self._replicas: dict[str, _Replica] = {}
        self._rows_cache: RowsCache = {}
        self._trends: tuple[deque[float], ...] = tuple(deque(maxlen=TREND_POINTS) for _ in range(3))
        self._last_rejects: float | None = None

    def client(self, url: str) -> MonitoringClient:
        if url not in self._clients:
            self._clients[url] = MonitoringClient(url)
        return self._clients[url]

    async def _fetch(self, name: str, url: str) -> _Poll:
        client = self.client(url)
        poll = _Poll(name)
        metrics = syncz = None
        try:
            metrics = await client.metrics()
        except IstiodError as exc:
            poll.error = str(exc)
        taken = time.monotonic()
        try:
            syncz = await client.syncz()
        except IstiodError as exc:
            poll.syncz_error = f"{name} /debug/syncz: {exc}"
        kept = self._replicas.setdefault(name, _Replica())
        await asyncio.to_thread(_parse_both, name, metrics, syncz, taken, poll, kept)
        return poll

    async def poll(self, started: float) -> IstiodUpdate:
        try:
            replicas = await self.source.replicas()
        except IstiodError:
            raise
        except Exception as exc:  # a forward that cannot start (PortForwardError) and the like
            raise IstiodError(f"istiod unreachable: {one_line(exc)[:160]}") from exc
        self.urls = dict(replicas)
        for url in set(self._clients) - {u for _, u in replicas}:
            await self._clients.pop(url).aclose()
        polls = await asyncio.gather(*(self._fetch(n, u) for n, u in replicas))
        return self._update(polls, (time.monotonic() - started) * 1000)

    def failed(self, reason: str) -> IstiodUpdate:
        return IstiodUpdate(error=reason)

    def restart_rates(self) -> None:
        # no rate, trend point or reject count across the outage: the next poll is a first one
        self._previous.clear()
        self._last_rejects = None

    async def disconnect(self) -> None:
        self.source.forget()  # the replicas may have been replaced meanwhile

    async def close(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        await self.source.close()

    def _update(self, polls: list[_Poll], fetch_ms: float) -> IstiodUpdate:
        good = [p for p in polls if p.scrape is not None]
        states = {p.name: ReplicaState(p.name, None, p.error, p.syncz_error) for p in polls}
        if not good:  # no replica answered: the place is stale
            raise IstiodError(polls[0].error if polls else "no istiod replica")
        # Prometheus text, but not istiod's, raises IstiodError too
        summaries, total = summarise_replicas(
            [p.scrape for p in good if p.scrape is not None],
            [self._previous.get(p.name) for p in good],
            now=self.clock(),
            names=[p.name for p in good],
        )
        previous = [self._previous.get(p.name) for p in good]
        if len(good) == 1:  # one replica: its scrapes as they are (keeps the rows cache hitting)
            merged, merged_prev = good[0].scrape or Scrape(), previous[0]
        else:
            merged_prev = merge(p for p in previous if p is not None) if all(previous) else None
            merged = merge(p.scrape for p in good if p.scrape is not None)
        for p, s in zip(good, summaries, strict=True):
            states[p.name] = ReplicaState(p.name, s, "", p.syncz_error)
            self._previous[p.name] = p.scrape  # type: ignore[assignment]
        proxies = with_rejects(sort_rows(row for p in polls for row in p.proxies), total.reject_series)
        return IstiodUpdate(
            replicas=tuple(states.values()),
            total=total,
            proxies=proxies,
            metrics=metric_rows(merged, merged_prev, self._rows_cache),
            trends=self._trend(total),
            fetch_ms=fetch_ms,
        )

    def _trend(self, total: Summary) -> Trends:
        pushes, convergence, rejects = self._trends
        if total.interval is not None:
            rate = total.pushes_rate
            pushes.append(rate if rate is not None else math.nan)
            p99 = (
                total.convergence.interval[2]
                if total.convergence and total.convergence.interval
                else math.nan
            )
            convergence.append(p99)
            now = total.rejects_total
            was = self._last_rejects
            rejects.append(max(now - was, 0.0) / total.interval if was is not None else math.nan)
        self._last_rejects = total.rejects_total
        return Trends(tuple(pushes), tuple(convergence), tuple(rejects))
