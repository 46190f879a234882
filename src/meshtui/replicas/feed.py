"""Every replica of a workload side by side: the same stats read from each pod's Envoy at
the same moment, a total, per-replica rates, and the replica that stands out.

One poll reads every pod at once (`/stats?type=Counters|Gauges&filter=`: two small
bodies per pod, which also say which names are counters). Rates are over a window of the
last `WINDOW_S` seconds per pod, so one slow second does not mark a replica; a counter
found lower than before (the pod's Envoy restarted) starts that pod's window again.

Which replica stands out: the one whose share of 5xx answers to the requests it served
over the last `VERDICT_S` seconds is at least `OUTLIER_MIN_PCT` and over twice the median of the others',
once it served `OUTLIER_MIN_REQUESTS` and `OUTLIER_MIN_ERRORS` of them failed, and only
if the others' pooled 5xx rate would give that many less often than `OUTLIER_P` (a
binomial test: the demo's one 5xx in ten on every replica never marks one; 1 failure of
2 is no finding) (the
issue's rule; a lone failing replica behind a Service is the usual case). Served
requests come from the inbound listener's connection manager (`http.inbound_*`), or,
when Istio's default stats inclusion leaves those out, from istio-proxy's own
`istio_requests_total` with reporter=destination and its response_code. Per stat row,
the cell furthest from the others' median (over twice, or under half) is marked too.
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
from typing import ClassVar, Protocol

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.clusters import parse_clusters
from meshtui.envoy.filter import StatFilter
from meshtui.kube.workload import Workload, WorkloadError
from meshtui.live import Freshness, LiveFeed, one_line

WINDOW_S = 10.0  # the counters' rates
VERDICT_S = 30.0  # the requests served and their 5xx: the replica that stands out is judged on these
OUTLIER_MIN_PCT = 1.0  # under this a replica's errors are noise, whatever the others'
OUTLIER_MIN_REQUESTS = 10  # fewer in its window: 1 failure of 2 would read as 50%
OUTLIER_MIN_ERRORS = 5  # and fewer 5xx than this are no finding, whatever the share
# how unlikely its 5xx must be at the other replicas' pooled 5xx rate (a one-sided binomial
# test): 1 failure in 13 where the others had none in 30 is chance, 20 in 30 is not
OUTLIER_P = 0.001
# the requests a replica served, and its 5xx: Envoy's inbound connection manager, or
# istio-proxy's standard metric (as its stats filter names it in /stats)
SERVED = (
    r"^http\.inbound_.*\.downstream_rq_(completed|5xx)$"
    r"|^istiocustom\.istio_requests_total\.reporter\.destination\."
)
THREAD_ROWS = 5_000  # more stat rows than this are compared off the event loop


class PodsSource(Protocol):
    """Where the replicas are: kube/forwarded_pods.py, or fixed URLs in tests."""

    async def urls(self, what: str) -> list[tuple[str, str]]: ...

    def forget(self) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ReplicaRead:
    """One pod's stats as read once: the filtered ones, and what it served."""

    pod: str
    counters: Mapping[str, int] = field(default_factory=dict)
    gauges: Mapping[str, int] = field(default_factory=dict)
    served: tuple[int, int] | None = None  # (requests completed, of them 5xx), since the Envoy started
    error: str = ""  # why its Envoy did not answer


def parse_typed(body: str) -> dict[str, int]:
    """`/stats?type=Counters` or `Gauges` text: `name: value` lines."""
    out: dict[str, int] = {}
    for line in body.splitlines():
        name, sep, value = line.rpartition(": ")
        if sep and value.lstrip("-").isdigit():
            out[name] = int(value)
    return out


def served_of(counters: Mapping[str, int]) -> tuple[int, int] | None:
    """(requests completed, of them 5xx) from the SERVED counters, None if there are none."""
    total = errors = 0
    found = False
    for name, value in counters.items():
        if name.startswith("http.inbound_"):
            if name.endswith(".downstream_rq_completed"):
                total, found = total + value, True
            elif name.endswith(".downstream_rq_5xx"):
                errors += value
    if found:
        return total, errors
    for name, value in counters.items():
        if name.startswith("istiocustom.istio_requests_total.reporter.destination."):
            total, found = total + value, True
            if ".response_code.5" in name:
                errors += value
    return (total, errors) if found else None


# the clusters mode's figures, as stat-like names `CLUSTER<TAB>figure`: requests and errors
# are counters (rates over the window), healthy and all endpoints gauges
RQ, ERR, HEALTHY, HOSTS = "\trq", "\terr", "\thealthy", "\thosts"
CLUSTER_FIGURES = (RQ, ERR, HEALTHY, HOSTS)


def cluster_figures(body: str, keep: StatFilter) -> tuple[dict[str, int], dict[str, int]]:
    """`/clusters?format=json` -> (counters, gauges) per cluster the filter keeps: requests
    and errors summed over its endpoints (Envoy's per-host rq_total, rq_error: 5xx answers
    and failed connections), and its healthy and all endpoints."""
    counters: dict[str, int] = {}
    gauges: dict[str, int] = {}
    parsed = parse_clusters(body)
    wanted = set(keep.select([c.name for c in parsed]))
    for c in parsed:
        if c.name in wanted:
            counters[c.name + RQ] = c.total("rq_total")
            counters[c.name + ERR] = c.total("rq_error")
            gauges[c.name + HEALTHY] = c.healthy
            gauges[c.name + HOSTS] = len(c.hosts)
    return counters, gauges


async def read_replica(
    pod: str, admin: EnvoyAdmin, stat_filter: StatFilter, clusters: bool = False
) -> ReplicaRead:
    """One pod's figures; an Envoy that does not answer is said, not raised."""
    if clusters:
        try:
            inbound = parse_typed(await admin.stats_get({"type": "Counters", "filter": SERVED}))
            by_cluster, endpoints = cluster_figures(await admin.clusters_json(), stat_filter)
        except (AdminError, ValueError) as exc:  # ValueError: not a /clusters answer
            return ReplicaRead(pod, error=one_line(exc))
        return ReplicaRead(pod, by_cluster, endpoints, served_of(inbound))
    user = stat_filter.envoy_param()
    only = {"filter": user} if user else {}
    # no filter: every counter, SERVED among them; else the user's and SERVED in one body
    counters_only = {"filter": f"(?:{user})|(?:{SERVED})"} if user else {}
    try:
        counters_body = await admin.stats_get({"type": "Counters", **counters_only})
        gauges_body = await admin.stats_get({"type": "Gauges", **only})
    except AdminError as exc:
        return ReplicaRead(pod, error=one_line(exc))
    counters = parse_typed(counters_body)
    served = served_of(counters)
    if user is not None:  # the SERVED names were read for the summary, not for the rows
        counters = {n: counters[n] for n in stat_filter.select(list(counters))}
    return ReplicaRead(pod, counters, parse_typed(gauges_body), served)


async def read_replicas(
    urls: Iterable[tuple[str, str]],
    stat_filter: StatFilter,
    clients: dict[str, EnvoyAdmin] | None = None,
    clusters: bool = False,
) -> list[ReplicaRead]:
    """Every pod at once (within one poll of each other). `clients` are kept between polls."""
    owned = clients is None
    kept: dict[str, EnvoyAdmin] = {} if clients is None else clients
    pairs = list(urls)
    try:
        for _, url in pairs:
            if url not in kept:
                kept[url] = EnvoyAdmin(url)
        reads = (read_replica(pod, kept[url], stat_filter, clusters) for pod, url in pairs)
        return list(await asyncio.gather(*reads))
    finally:
        if owned:
            for admin in kept.values():
                await admin.aclose()


# gauges whose sum over replicas means nothing: a config version hash, a time stamp, a
# state, the Envoy's own age and settings. They have no total (the TOTAL column says -).
NOT_SUMMED = frozenset(
    (
        "version",
        "update_time",
        "config_reload_time_ms",
        "uptime",
        "hot_restart_epoch",
        "hot_restart_generation",
        "state",
        "concurrency",
        "days_until_first_cert_expiring",
        "seconds_until_first_ocsp_response_expiring",
    )
)


def summed(name: str, is_counter: bool) -> bool:
    return is_counter or name.rpartition(".")[2] not in NOT_SUMMED


def total_of(reads: Iterable[ReplicaRead]) -> dict[str, int]:
    """Every counter's sum, and every gauge's that a sum makes sense of (NOT_SUMMED)."""
    out: dict[str, int] = {}
    for r in reads:
        for name, value in r.counters.items():
            out[name] = out.get(name, 0) + value
        for name, value in r.gauges.items():
            if summed(name, False):
                out[name] = out.get(name, 0) + value
    return out


# -- over time ---------------------------------------------------------------------------


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
