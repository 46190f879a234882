"""The live clusters loop for one sidecar (`/clusters?format=json`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.clusters import ClustersSnapshot, ClustersTracker, parse_clusters
from meshtui.envoy.faults import COUNTERS_FILTER, Fault, injected, route_faults
from meshtui.envoy.live import AdminEndpoint, AdminFeed
from meshtui.live import Freshness

THREAD_PARSE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ClustersUpdate:
    endpoint: str
    snapshot: ClustersSnapshot | None = None
    error: str | None = None
    freshness: Freshness = field(default_factory=Freshness)
    faults: Mapping[str, Fault] = field(default_factory=dict)  # cluster -> its routes' fault
    aborts_injected: int | None = None  # the fault filters' counters, summed (None: not read)
    delays_injected: int | None = None


FAULTS_EVERY_S = 5.0  # the routes' fault config and counters: read along, not every poll


class ClustersFeed(AdminFeed[ClustersUpdate]):
    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(endpoint, interval, timeout)
        self.tracker = ClustersTracker()
        self._faults: tuple[float, dict[str, Fault], int, int] | None = None  # (read at, faults, counters)

    def restart_rates(self) -> None:
        self.tracker = ClustersTracker()

    def set_paused(self, paused: bool) -> None:
        if self.paused and not paused:
            # shown again after being hidden: no poll was made meanwhile, so a rate or a
            # "last 10 s" error window reaching back over that time would describe the
            # hidden minutes (a fault removed 20 s ago still read 57%), not now. Unlike a
            # counter's change in the stats view, these figures are about the present.
            self.restart_rates()
        super().set_paused(paused)

    def failed(self, reason: str) -> ClustersUpdate:
        return ClustersUpdate(self.endpoint.label, error=reason)

    def _snapshot(self, body: str) -> ClustersSnapshot:
        return self.tracker.update(parse_clusters(body), time.monotonic())

    async def read(self, admin: EnvoyAdmin, started: float) -> ClustersUpdate:
        body = await admin.clusters_json()
        if len(body) > THREAD_PARSE_BYTES:  # thousands of clusters: parse and diff off the event loop
            snapshot = await asyncio.to_thread(self._snapshot, body)
        else:
            snapshot = self._snapshot(body)
        faults = await self._read_faults(admin, started)
        return ClustersUpdate(
            self.endpoint.label,
            snapshot,
            faults=faults[1],
            aborts_injected=faults[2],
            delays_injected=faults[3],
        )

    async def _read_faults(
        self, admin: EnvoyAdmin, started: float
    ) -> tuple[float, dict[str, Fault], int, int]:
        """The routes' faults and the fault filters' counters, at most every FAULTS_EVERY_S."""
        if self._faults is not None and started - self._faults[0] < FAULTS_EVERY_S:
            return self._faults
        try:
            body = await admin.config_dump({"resource": "dynamic_route_configs"})
            # a big sidecar's routes run to megabytes: parsed off the event loop then
            big = len(body) > THREAD_PARSE_BYTES
            faults = await asyncio.to_thread(_faults_of, body) if big else _faults_of(body)
            aborts, delays = injected(await admin.stats_text(COUNTERS_FILTER))
        except (AdminError, ValueError):
            faults, aborts, delays = {}, 0, 0  # the clusters are what this view is for
        self._faults = (started, faults, aborts, delays)
        return self._faults


def _faults_of(body: str) -> dict[str, Fault]:
    doc = json.loads(body)
    return route_faults(doc) if isinstance(doc, dict) else {}
