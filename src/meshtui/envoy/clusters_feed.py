"""The live clusters loop for one sidecar (`/clusters?format=json`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from meshtui.envoy.admin import EnvoyAdmin
from meshtui.envoy.clusters import ClustersSnapshot, ClustersTracker, parse_clusters
from meshtui.envoy.live import AdminEndpoint, LiveFeed
from meshtui.freshness import Freshness

THREAD_PARSE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class ClustersUpdate:
    endpoint: str
    snapshot: ClustersSnapshot | None = None
    error: str | None = None
    failures: int = 0
    freshness: Freshness = field(default_factory=Freshness)


class ClustersFeed(LiveFeed[ClustersUpdate]):
    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(endpoint, interval, timeout)
        self.tracker = ClustersTracker()

    def restart_rates(self) -> None:
        self.tracker = ClustersTracker()

    def failed(self, message: str, failures: int) -> ClustersUpdate:
        return ClustersUpdate(self.endpoint.label, error=message, failures=failures)

    def _snapshot(self, body: str) -> ClustersSnapshot:
        return self.tracker.update(parse_clusters(body), time.monotonic())

    async def poll(self, admin: EnvoyAdmin, started: float) -> ClustersUpdate:
        body = await admin.clusters_json()
        if len(body) > THREAD_PARSE_BYTES:  # thousands of clusters: parse and diff off the event loop
            return ClustersUpdate(self.endpoint.label, await asyncio.to_thread(self._snapshot, body))
        return ClustersUpdate(self.endpoint.label, self._snapshot(body))
