"""The Envoys' side of the timeline: a restart Kubernetes does not see (`server.uptime` going
down, a new `server.hot_restart_epoch`), a cluster's error rate starting or ending a burst,
an endpoint ejected by outlier detection or failing its active health check, and back.

Read from each sidecar's `/clusters?format=json` (per endpoint `rq_total`, `rq_error` and
its health flags: there whatever Istio's stats inclusion list leaves out of `/stats`) and
two `server.*` stats, every INTERVAL_S, for at most MAX_ENVOYS sidecars (the first by
name; the rest are said once). The first read of an Envoy is its baseline.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.clusters import ClusterStatus, parse_clusters
from meshtui.events.model import MeshEvent
from meshtui.kube.pods import PodInfo
from meshtui.live import Freshness, LiveFeed, one_line

ADMIN_PORT = 15000

ENVOY = "envoy"
INTERVAL_S = 5.0
MAX_ENVOYS = 30
BURST_PCT = 10.0  # a cluster's errors over one interval from this share on are a burst
BURST_MIN_ERRORS = 5  # and at least this many: 1 failure of 3 requests is no burst
# each interval /server_info (no stats scan) and, where it is small, /clusters: on a gateway
# or an unscoped sidecar of 2,000 clusters it is megabytes, and reading it every 5 s cost
# that Envoy 12% of a core (bench/app_cpu.py --clusters 2000); the cluster count is a
# gauge, read on the first read and once a minute (a scan of the Envoy's gauges)
COUNT = r"^cluster_manager\.active_clusters$"
COUNT_EVERY = 12
MAX_CLUSTERS = 300


@dataclass(frozen=True)
class EnvoyRead:
    """One read of one Envoy: its server stats and its clusters' endpoints."""

    uptime: int
    epoch: int
    clusters: tuple[ClusterStatus, ...]


def parse_server_info(body: str) -> tuple[int, int]:
    """(uptime of this epoch in seconds, the hot-restart epoch) from `/server_info`."""
    doc = json.loads(body)
    uptime = str(doc.get("uptime_current_epoch") or "0s").removesuffix("s")
    epoch = (doc.get("command_line_options") or {}).get("restart_epoch") or 0
    return int(float(uptime)), int(epoch)


def parse_count(body: str) -> int:
    for line in body.splitlines():
        name, _, value = line.partition(": ")
        if name == "cluster_manager.active_clusters" and value.strip().isdigit():
            return int(value)
    return 0


def read_of(server_info: str, clusters_body: str | None) -> EnvoyRead:
    uptime, epoch = parse_server_info(server_info)
    clusters = tuple(parse_clusters(clusters_body)) if clusters_body is not None else ()
    return EnvoyRead(uptime, epoch, clusters)


@dataclass
class EnvoyTimeline:
    """One pod's Envoy between reads. `pod` is namespace/name."""

    pod: str
    last: EnvoyRead | None = None
    bursting: dict[str, float] = field(default_factory=dict)  # cluster -> since (unix)

    def apply(self, read: EnvoyRead, now: float) -> list[MeshEvent]:
        last, self.last = self.last, read
        if last is None:
            return []
        namespace, _, name = self.pod.partition("/")
        detail: dict[str, Any] = {"namespace": namespace, "pod": name}

        def event(summary: str, **more: Any) -> MeshEvent:
            return MeshEvent(now, "Envoy", self.pod, summary, {**detail, **more}, ENVOY)

        out = []
        if read.epoch != last.epoch:
            out.append(event(f"hot restart (epoch {last.epoch} -> {read.epoch})", epoch=read.epoch))
        elif read.uptime < last.uptime:
            out.append(event(f"restarted (uptime {last.uptime} s -> {read.uptime} s)", uptime=read.uptime))
            self.bursting.clear()
            return out  # its counters started again: no rate across the restart
        before = {c.name: c for c in last.clusters}  # none read on an Envoy of many clusters
        for c in read.clusters:
            old = before.get(c.name)
            if old is None:
                continue
            out += self._burst(c, old, now, event)
            out += self._hosts(c, old, event)
        return out

    def _burst(self, c: ClusterStatus, old: ClusterStatus, now: float, event: Any) -> list[MeshEvent]:
        requests = c.total("rq_total") - old.total("rq_total")
        errors = c.total("rq_error") - old.total("rq_error")
        if requests < 0 or errors < 0:  # an endpoint left, its counters with it
            return []
        pct = 100.0 * errors / requests if requests else 0.0
        burst = errors >= BURST_MIN_ERRORS and pct >= BURST_PCT
        if burst and c.name not in self.bursting:
            self.bursting[c.name] = now
            line = f"{c.name}: error burst, {pct:.0f}% ({errors} of {requests} requests)"
            return [event(line, cluster=c.name, errors=errors, requests=requests)]
        if not burst and c.name in self.bursting:
            since = self.bursting.pop(c.name)
            line = f"{c.name}: error burst over after {now - since:.0f} s ({pct:.0f}% now)"
            return [event(line, cluster=c.name, errors=errors, requests=requests)]
        return []

    def _hosts(self, c: ClusterStatus, old: ClusterStatus, event: Any) -> list[MeshEvent]:
        out = []
        was = {h.address: h for h in old.hosts}
        for h in c.hosts:
            before = was.get(h.address)
            if before is None:
                continue
            for flag, on, off in (
                ("outlier_ejected", "ejected by outlier detection", "back from outlier ejection"),
                ("failed_active_hc", "failing its active health check", "passing its health check again"),
            ):
                now_on, was_on = getattr(h, flag), getattr(before, flag)
                if now_on != was_on:
                    out.append(
                        event(
                            f"{c.name}: endpoint {h.address} {on if now_on else off}",
                            cluster=c.name,
                            endpoint=h.address,
                        )
                    )
        return out


@dataclass(frozen=True)
class EnvoysUpdate:
    events: tuple[MeshEvent, ...] = ()
    problems: tuple[tuple[str, str], ...] = ()  # (pod, why its Envoy did not answer)
    watched: int = 0
    sidecars: int = 0
    error: str = ""
    freshness: Freshness = field(default_factory=Freshness)


class EnvoysFeed(LiveFeed[EnvoysUpdate]):
    """Every sidecar's Envoy (up to MAX_ENVOYS), read at once each interval through the
    shared port-forwards; one that does not answer is a problem of its own, not the poll's."""

    def __init__(self, sidecars: Callable[[], Iterable[PodInfo]], manager: Any, interval: float = INTERVAL_S):
        super().__init__(interval)
        self.sidecars = sidecars
        self.manager = manager
        self.clock = time.time
        self._timelines: dict[str, EnvoyTimeline] = {}
        self._forwards: dict[str, Any] = {}  # pod -> its port-forward to 15000
        self.too_big: set[str] = set()  # pods whose clusters are too many to read each interval
        self._reads: dict[str, int] = {}  # reads of each pod's Envoy
        self._many: dict[str, bool] = {}  # its clusters over MAX_CLUSTERS, as last counted

    async def poll(self, started: float) -> EnvoysUpdate:
        running = sorted(
            (p for p in self.sidecars() if p.sidecar and p.status == "Running"), key=lambda p: p.key
        )
        watched = {f"{p.namespace}/{p.name}": p for p in running[:MAX_ENVOYS]}
        for pod in set(self._forwards) - set(watched):  # gone, or no longer among the first
            self._timelines.pop(pod, None)
            self._reads.pop(pod, None)
            await self.manager.release(self._forwards.pop(pod))
        results = await asyncio.gather(*(self._read(key, p) for key, p in watched.items()))
        now = self.clock()
        events: list[MeshEvent] = []
        problems = []
        for key, result in zip(watched, results, strict=True):
            if isinstance(result, str):
                problems.append((key, result))
                continue
            events += self._timelines.setdefault(key, EnvoyTimeline(key)).apply(result, now)
        return EnvoysUpdate(tuple(events), tuple(problems), len(watched), len(running))

    async def _read(self, key: str, pod: PodInfo) -> EnvoyRead | str:
        try:
            fwd = self._forwards.get(key)
            if fwd is None:
                fwd = self._forwards[key] = await self.manager.acquire(pod.namespace, pod.name, ADMIN_PORT)
            admin = EnvoyAdmin(fwd.url, timeout=10)
            try:
                server = (await admin.get("/server_info")).text
                reads = self._reads[key] = self._reads.get(key, -1) + 1
                if reads % COUNT_EVERY == 0:
                    count = parse_count(await admin.stats_get({"type": "Gauges", "filter": COUNT}))
                    self._many[key] = count > MAX_CLUSTERS
                clusters = None if self._many.get(key) else await admin.clusters_json()
            finally:
                await admin.aclose()
            if self._many.get(key):
                self.too_big.add(key)
            return await asyncio.to_thread(read_of, server, clusters)
        except Exception as exc:  # AdminError, a forward that cannot start, a body not /clusters
            return one_line(exc)[:200]

    def failed(self, reason: str) -> EnvoysUpdate:
        return EnvoysUpdate(error=reason)

    async def close(self) -> None:
        for fwd in self._forwards.values():
            await self.manager.release(fwd)
        self._forwards.clear()
