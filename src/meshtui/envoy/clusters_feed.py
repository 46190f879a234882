"""The live clusters loop for one sidecar (`/clusters?format=json`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.clusters import ClustersSnapshot, ClustersTracker, parse_clusters
from meshtui.envoy.live import AdminEndpoint, AdminFeed
from meshtui.live import Freshness

THREAD_PARSE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ClustersUpdate:
    endpoint: str
    snapshot: ClustersSnapshot | None = None
    error: str | None = None
    freshness: Freshness = field(default_factory=Freshness)


class ClustersFeed(AdminFeed[ClustersUpdate]):
    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(endpoint, interval, timeout)
        self.tracker = ClustersTracker()

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
            return ClustersUpdate(self.endpoint.label, await asyncio.to_thread(self._snapshot, body))
        return ClustersUpdate(self.endpoint.label, self._snapshot(body))
