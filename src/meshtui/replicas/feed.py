"""Every replica of a workload side by side: the same stats read from each pod's Envoy at
the same moment, a total, per-replica rates, and the replica that stands out.

One poll reads every pod at once (replicas/read.py). Rates are over a window of the
last `WINDOW_S` seconds per pod, so one slow second does not mark a replica; a counter
found lower than before (the pod's Envoy restarted) starts that pod's window again.

Which replica stands out: the one whose share of 5xx answers to the requests it served
over the last `VERDICT_S` seconds is at least `OUTLIER_MIN_PCT` and over twice the median of the others',
once it served `OUTLIER_MIN_REQUESTS` and `OUTLIER_MIN_ERRORS` of them failed, and only
if the others' pooled 5xx rate would give that many less often than `OUTLIER_P` (a
binomial test: the demo's one 5xx in ten on every replica never marks one; 1 failure of
2 is no finding). A lone failing replica behind a Service is the usual case. Per stat
row, the cell furthest from the others' median (over twice, or under half) is marked too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import statistics
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.filter import StatFilter
from meshtui.kube.workload import Workload, WorkloadError
from meshtui.live import Freshness, LiveFeed, one_line
from meshtui.replicas.read import (
    PodsSource,
    ReplicaRead,
    read_replicas,
    total_of,
)

WINDOW_S = 10.0  # the counters' rates
VERDICT_S = 30.0  # the requests served and their 5xx: the replica that stands out is judged on these
OUTLIER_MIN_PCT = 1.0  # under this a replica's errors are noise, whatever the others'
OUTLIER_MIN_REQUESTS = 10  # fewer in its window: 1 failure of 2 would read as 50%
OUTLIER_MIN_ERRORS = 5  # and fewer 5xx than this are no finding, whatever the share
# how unlikely its 5xx must be at the other replicas' pooled 5xx rate (a one-sided binomial
# test): 1 failure in 13 where the others had none in 30 is chance, 20 in 30 is not
OUTLIER_P = 0.001
THREAD_ROWS = 5_000  # more stat rows than this are compared off the event loop


@dataclass(frozen=True, slots=True)
class Replica:
    pod: str
    values: Mapping[str, int]  # the filtered stats: counters and gauges
    rates: Mapping[str, float]  # counters, per second over the window
    served_rps: float | None = None  # requests it served per second over the window
    error_pct: float | None = None  # of them 5xx, % (None: it served none)
    served_n: int = 0  # requests it served in the verdict window
    served_errors: int = 0  # of them 5xx
    window_s: float = 0.0  # how long its window really is (shorter at the start)
    error: str = ""


@dataclass(frozen=True)
class ReplicasUpdate:
    workload: Workload | None
    filter: StatFilter
    replicas: tuple[Replica, ...] = ()
    names: tuple[str, ...] = ()  # every filtered stat (or cluster, in clusters mode) any replica has, sorted
    clusters: bool = False  # the clusters mode: names are clusters, figures CLUSTER_FIGURES
    counters: frozenset[str] = frozenset()
    total: Mapping[str, int] = field(default_factory=dict)
    total_rates: Mapping[str, float] = field(default_factory=dict)
    outlier: str | None = None  # the replica that stands out
    outlier_why: str = ""
    deviant: Mapping[str, str] = field(default_factory=dict)  # stat -> the pod whose cell stands out
    fetch_ms: float = 0.0
    error: str = ""
    freshness: Freshness = field(default_factory=Freshness)


class _Window:
    """One pod's polls over the last VERDICT_S seconds: (monotonic time, counters, served)."""

    def __init__(self) -> None:
        self.polls: deque[tuple[float, Mapping[str, int] | None, tuple[int, int] | None]] = deque()

    def add(self, at: float, read: ReplicaRead) -> None:
        if self.polls and _went_down(self.polls[-1][1] or {}, read.counters, self.polls[-1][2], read.served):
            self.polls.clear()  # a new Envoy: no rate across its restart
        self.polls.append((at, read.counters, read.served))
        while len(self.polls) > 2 and at - self.polls[1][0] >= VERDICT_S:
            self.polls.popleft()

    def replica(self, read: ReplicaRead) -> Replica:
        values = {**read.counters, **read.gauges}
        if len(self.polls) < 2:
            return Replica(read.pod, values, {})
        (t0, _, served0), (t1, _, served1) = self.polls[0], self.polls[-1]
        span = t1 - t0
        # the oldest poll of the last WINDOW_S read with this filter (a new filter's rates
        # start with it), or the one before the last if the polls are further apart
        recent = [(t, c) for t, c, _ in list(self.polls)[:-1] if c is not None and t1 - t <= WINDOW_S + 0.5]
        before = [(t, c) for t, c, _ in list(self.polls)[:-1] if c is not None]
        ta, old = recent[0] if recent else (before[-1] if before else (t1, {}))
        rates = {n: (v - old[n]) / (t1 - ta) for n, v in read.counters.items() if n in old} if t1 > ta else {}
        rps = pct = None
        done = errors = 0
        if served0 is not None and served1 is not None:
            done, errors = served1[0] - served0[0], served1[1] - served0[1]
            rps = done / span
            pct = 100.0 * errors / done if done > 0 else None
        return Replica(read.pod, values, rates, rps, pct, done, errors, span)

    def new_filter(self) -> None:
        """Other names from now on: no counter rate from the polls before, but the requests
        served (read whatever the filter) keep their window."""
        self.polls = deque((t, None, served) for t, _, served in self.polls)


def _went_down(
    old: Mapping[str, int],
    new: Mapping[str, int],
    served0: tuple[int, int] | None,
    served1: tuple[int, int] | None,
) -> bool:
    if served0 is not None and served1 is not None and served1[0] < served0[0]:
        return True
    return any(v < old[n] for n, v in new.items() if n in old)


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p): how likely k or more 5xx of n at the rate p."""
    if k <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0 or k > n:
        return 1.0 if p >= 1.0 else 0.0
    total = 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    for i in range(k, n + 1):
        term = math.exp(
            math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q
        )
        total += term
        if i > n * p and term < total * 1e-12:
            break  # past the mode the terms only shrink
    return min(total, 1.0)


def outlier_of(replicas: Iterable[Replica]) -> tuple[str | None, str]:
    """The replica whose 5xx share is over OUTLIER_MIN_PCT and twice the others' median,
    from at least OUTLIER_MIN_REQUESTS requests and OUTLIER_MIN_ERRORS errors, and that
    chance at the others' pooled rate would give less often than OUTLIER_P."""
    answered = [r for r in replicas if r.error_pct is not None]
    best: tuple[float, str, str] | None = None
    for r in answered:
        peers = [o for o in answered if o is not r and o.error_pct is not None]
        others = [o.error_pct for o in peers if o.error_pct is not None]
        if not others or r.error_pct is None or r.error_pct < OUTLIER_MIN_PCT:
            continue
        if r.served_n < OUTLIER_MIN_REQUESTS or r.served_errors < OUTLIER_MIN_ERRORS:
            continue
        peers_n = sum(o.served_n for o in peers)
        pooled = max(sum(o.served_errors for o in peers) / peers_n if peers_n else 0.0, 1 / (peers_n + 1))
        if binomial_tail(r.served_errors, r.served_n, pooled) >= OUTLIER_P:
            continue
        median = statistics.median(others)
        if r.error_pct > 2 * median:
            why = (
                f"{r.pod}: {r.error_pct:.1f}% 5xx over the last {r.window_s:.0f}s, "
                f"the other replicas' median {median:.1f}%"
            )
            if best is None or r.error_pct - median > best[0]:
                best = (r.error_pct - median, r.pod, why)
    return (best[1], best[2]) if best else (None, "")


def deviant_cells(names: Iterable[str], replicas: list[Replica], counters: frozenset[str]) -> dict[str, str]:
    """Per stat: the pod whose figure (a counter's rate, a gauge's value) is over twice or
    under half the median of the others', the furthest if several are."""
    out: dict[str, str] = {}
    if len(replicas) < 2:
        return out
    for name in names:
        is_counter = name in counters
        figures = [(r.rates if is_counter else r.values).get(name) for r in replicas]
        if any(f is None for f in figures):
            continue
        worst, pod = 2.0, ""
        for i, f in enumerate(figures):
            median = statistics.median(o for j, o in enumerate(figures) if j != i)  # type: ignore[type-var]
            low, high = sorted((abs(f), abs(median)))  # type: ignore[arg-type]
            if high - low < (0.05 if is_counter else 1):
                continue  # 0.01/s against 0.03/s is no finding
            ratio = high / low if low else float("inf")
            if ratio > worst:
                worst, pod = ratio, replicas[i].pod
        if pod:
            out[name] = pod
    return out


class ReplicasFeed(LiveFeed[ReplicasUpdate]):
    """The Replicas place's live loop: every pod of the workload, each poll."""

    errors: ClassVar[tuple[type[Exception], ...]] = (WorkloadError, AdminError, ValueError, OSError)

    def __init__(self, workload: Workload, source: PodsSource, interval: float = 1.0) -> None:
        super().__init__(interval)
        self.workload, self.source = workload, source
        self.filter = StatFilter()
        self.clusters = False  # compare the clusters (/clusters) instead of the stats
        self._clients: dict[str, EnvoyAdmin] = {}
        self._windows: dict[str, _Window] = {}

    def set_clusters(self, clusters: bool) -> None:
        """Compare the clusters (True) or the stats, from the next poll (now)."""
        self.clusters = clusters
        for window in self._windows.values():
            window.new_filter()
        self.poll_now()

    def set_filter(self, f: StatFilter) -> None:
        """Read with this filter from the next poll (now: the view wakes the feed)."""
        self.filter = f
        for window in self._windows.values():
            window.new_filter()
        self.poll_now()

    async def poll(self, started: float) -> ReplicasUpdate:
        try:
            urls = await self.source.urls(f"the pods of {self.workload.title}")
        except WorkloadError:
            raise
        except Exception as exc:  # a forward that cannot start, and the like
            raise WorkloadError(f"{self.workload.title}: {one_line(exc)[:160]}") from exc
        if not urls:
            raise WorkloadError(
                f"no running pod matches {self.workload.selector} in {self.workload.namespace}"
            )
        live = {u for _, u in urls}
        for url in set(self._clients) - live:
            await self._clients.pop(url).aclose()
        stat_filter, clusters = self.filter, self.clusters
        reads = await read_replicas(urls, stat_filter, self._clients, clusters)
        if all(r.error for r in reads):
            raise AdminError(reads[0].error)
        now = time.monotonic()
        pods = {r.pod for r in reads}
        for gone in set(self._windows) - pods:
            del self._windows[gone]
        for r in reads:
            if not r.error:
                self._windows.setdefault(r.pod, _Window()).add(now, r)
        if sum(len(r.counters) + len(r.gauges) for r in reads) > THREAD_ROWS * 2:
            update = await asyncio.to_thread(self._update, reads, stat_filter, clusters)
        else:
            update = self._update(reads, stat_filter, clusters)
        return dataclasses.replace(update, fetch_ms=(time.monotonic() - started) * 1000)

    def _update(self, reads: list[ReplicaRead], stat_filter: StatFilter, clusters: bool) -> ReplicasUpdate:
        replicas = [
            self._windows[r.pod].replica(r) if not r.error else Replica(r.pod, {}, {}, error=r.error)
            for r in reads
        ]
        good = [r for r in replicas if not r.error]
        counters = frozenset(n for r in reads for n in r.counters)
        figures = sorted({n for r in good for n in r.values})
        names = tuple(sorted({n.rpartition("\t")[0] for n in figures})) if clusters else tuple(figures)
        total_rates: dict[str, float] = {}
        for r in good:
            for n, v in r.rates.items():
                total_rates[n] = total_rates.get(n, 0.0) + v
        outlier, why = outlier_of(good)
        return ReplicasUpdate(
            workload=self.workload,
            filter=stat_filter,
            replicas=tuple(replicas),
            names=names,
            clusters=clusters,
            counters=counters,
            total=total_of(r for r in reads if not r.error),
            total_rates=total_rates,
            outlier=outlier,
            outlier_why=why,
            deviant=deviant_cells(figures, good, counters),
        )

    def failed(self, reason: str) -> ReplicasUpdate:
        return ReplicasUpdate(self.workload, self.filter, error=reason)

    def restart_rates(self) -> None:
        self._windows.clear()

    async def disconnect(self) -> None:
        self.source.forget()  # pods may have been replaced meanwhile

    async def close(self) -> None:
        for admin in self._clients.values():
            await admin.aclose()
        self._clients.clear()
        await self.source.close()
