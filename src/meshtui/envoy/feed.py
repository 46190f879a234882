"""The live stats loop for one sidecar (`/stats`), on the shared `LiveFeed` loop."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.config_dump import ConfigDumpError, bootstrap_of, parse_config_dump
from meshtui.envoy.filter import StatFilter
from meshtui.envoy.live import AdminEndpoint, DirectEndpoint, LiveFeed
from meshtui.envoy.stats_matcher import StatsMatcher
from meshtui.envoy.tracker import StatsSnapshot, StatsTracker
from meshtui.freshness import Freshness

__all__ = ["AdminEndpoint", "DirectEndpoint", "StatsFeed", "StatsUpdate"]

KINDS_REFRESH_S = 1.0  # at most this often, and only when unknown names appeared
THREAD_PARSE_BYTES = 256 * 1024
TYPING_PAUSE_S = 0.25  # a filter change re-polls once the user stops typing this long


@dataclass(frozen=True, slots=True)
class StatsUpdate:
    endpoint: str
    filter: StatFilter
    snapshot: StatsSnapshot | None = None
    error: str | None = None
    fetch_ms: float = 0.0
    envoy_filtered: bool = True  # False when Envoy refused the regex and we filter locally
    failures: int = 0
    freshness: Freshness = field(default_factory=Freshness)
    matcher: StatsMatcher | None = None  # read once a filter matched nothing: why stats are missing


class StatsFeed(LiveFeed[StatsUpdate]):
    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(endpoint, interval, timeout)
        self.filter = StatFilter()
        self.tracker = StatsTracker()
        self._kinds_at = -1e9
        self._need_kinds = True
        self._kinds_stale = False
        self._typed_at = -1e9
        self._regex_refused: str | None = None
        self._matcher: StatsMatcher | None = None
        self._matcher_read = False

    def set_filter(self, f: StatFilter) -> None:
        """Poll with this filter soon: after a short pause, so a burst of keys costs one poll.

        Kinds are not re-fetched here: names the index does not know show up as
        unknown in the next snapshot, and that triggers the (throttled) refresh.
        """
        if f != self.filter:
            self.filter = f
            self._typed_at = time.monotonic()
            self._wake.set()

    async def _read_matcher(self, admin: EnvoyAdmin) -> StatsMatcher | None:
        """The bootstrap's stats_matcher, once per sidecar (a small masked /config_dump)."""
        self._matcher_read = True
        try:
            body = await admin.config_dump({"mask": "bootstrap.stats_config"})
            return StatsMatcher.from_bootstrap(bootstrap_of(parse_config_dump(body)))
        except (AdminError, ConfigDumpError):
            return None  # the pane then says only that nothing matches

    def restart_rates(self) -> None:
        # the next body is diffed against nothing: no deltas or rates across the gap;
        # which names are counters is kept (the same Envoy, or one of the same build)
        kinds = self.tracker.kinds
        self.tracker.reset()
        self.tracker.kinds = kinds

    def hold_until(self) -> float:
        return self._typed_at + TYPING_PAUSE_S

    def failed(self, message: str, failures: int) -> StatsUpdate:
        return StatsUpdate(endpoint=self.endpoint.label, filter=self.filter, error=message, failures=failures)

    async def poll(self, admin: EnvoyAdmin, started: float) -> StatsUpdate | None:
        f = self.filter
        tracker = self.tracker
        param = None if f.is_regex and self._regex_refused == f.text else f.envoy_param()
        if self._need_kinds or (self._kinds_stale and started - self._kinds_at > KINDS_REFRESH_S):
            tracker.kinds = await admin.stat_kinds(param)
            self._kinds_at, self._need_kinds, self._kinds_stale = started, False, False
        try:
            body = await admin.stats_text(param)
        except AdminError as exc:
            if f.is_regex and exc.status == 400 and param is not None:
                self._regex_refused = f.text  # Envoy's RE2 said no: filter locally
                return None
            raise
        received = time.monotonic()
        if len(body) > THREAD_PARSE_BYTES:
            # a big body is diffed off the event loop, so keys stay quick meanwhile
            snap = await asyncio.to_thread(tracker.update, body, received)
        else:
            snap = tracker.update(body, received)
        self._kinds_stale = self._kinds_stale or snap.unknown_numeric > 0
        if not snap.names and not f.empty and not self._matcher_read:
            self._matcher = await self._read_matcher(admin)
        return StatsUpdate(
            matcher=self._matcher,
            endpoint=self.endpoint.label,
            filter=f,
            snapshot=snap,
            fetch_ms=(time.monotonic() - started) * 1000,
            envoy_filtered=param is not None or f.empty,
        )
