"""The live stats loop for one sidecar (`/stats`), on the one live loop (meshtui/live.py)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field, replace

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.config_dump import ConfigDumpError, bootstrap_of, parse_config_dump
from meshtui.envoy.filter import StatFilter
from meshtui.envoy.live import AdminEndpoint, AdminFeed, DirectEndpoint
from meshtui.envoy.stats import StatKind
from meshtui.envoy.stats_catalog import (
    EMPTY_CATALOG,
    CatalogMerge,
    line_counts,
    parse_catalog,
    structure_marker,
)
from meshtui.envoy.stats_matcher import StatsMatcher
from meshtui.envoy.tracker import StatsSnapshot, StatsTracker
from meshtui.envoy.used_poll import BIG_SIDECAR, ORDER, FlushConfig, UsedPoll
from meshtui.live import Freshness

__all__ = ["AdminEndpoint", "DirectEndpoint", "StatsFeed", "StatsUpdate"]

THREAD_PARSE_BYTES = 256 * 1024
# the full name list: a safety net, structure changes come sooner (STRUCTURE_COUNTERS),
# and stats created since arrive with the used poll once written
CATALOG_REFRESH_S = 600.0
CATALOG_MIN_GAP_S = 10.0  # however often clusters come and go
SMALL_CATALOG = 20_000  # names: fetched and parsed on the event loop in a few ms


@dataclass(frozen=True, slots=True)
class StatsUpdate:
    endpoint: str
    filter: StatFilter
    snapshot: StatsSnapshot | None = None
    error: str | None = None
    fetch_ms: float = 0.0
    freshness: Freshness = field(default_factory=Freshness)
    matcher: StatsMatcher | None = None  # the bootstrap's stats_matcher: why stats are missing
    read: frozenset[StatKind] = frozenset()  # the kinds read on this poll (envoy/used_poll.py)
    every: tuple[tuple[StatKind, float], ...] = ()  # seconds between reads, per kind


class StatsFeed(AdminFeed[StatsUpdate]):
    """Polls the stats in use (`/stats?usedonly&type=`, each kind as often as it can change:
    envoy/used_poll.py) and the full name list (`StatsCatalog`) rarely.

    At 214,000 stats a full `/stats` each second cost the watched Envoy 13-32% of a core
    and the app ~22%; the used ones (~15,000) cost the Envoy a fifth to an eighth of that
    and the app ~6% (bench/app_cpu.py), and a stat never written still holds its initial
    value (envoy/stats_catalog.py). The filter is applied by the
    view on the whole name list, so typing never waits for a poll.
    """

    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        super().__init__(endpoint, interval, timeout)
        self.filter = StatFilter()
        self.tracker = StatsTracker()
        self.catalog = EMPTY_CATALOG
        self._merge = CatalogMerge()
        self._catalog_wanted = True
        self._marker: tuple[str, ...] | None = None
        self.used = UsedPoll()
        self._matcher: StatsMatcher | None = None
        self._matcher_read = False

    def set_filter(self, f: StatFilter) -> None:
        """Remembered for the updates' sake: the view filters, the poll is the same."""
        self.filter = f

    async def _read_bootstrap(self, admin: EnvoyAdmin) -> None:
        """The bootstrap's stats_matcher and flush settings, once per sidecar (a small
        masked /config_dump)."""
        self._matcher_read = True
        mask = "bootstrap.stats_config,bootstrap.stats_flush_interval,bootstrap.stats_flush_on_admin"
        try:
            bootstrap = bootstrap_of(parse_config_dump(await admin.config_dump({"mask": mask})))
        except (AdminError, ConfigDumpError):
            return  # the pane then says only that nothing matches; Envoy's default flush
        self._matcher = StatsMatcher.from_bootstrap(bootstrap)
        self.used.flush = FlushConfig.from_bootstrap(bootstrap)

    def restart_rates(self) -> None:
        # the next body is diffed against nothing: no deltas or rates across the gap, only
        # the counters found below their value before it are marked reset (an Envoy
        # restarted); which names are counters is kept (the same Envoy, or one of its build),
        # but the name list is read again (a restarted Envoy may have other clusters)
        self.tracker.gap()
        self.used.forget()
        self._catalog_wanted = True
        self._marker = None

    def _catalog_due(self, now: float) -> bool:
        age = now - self.catalog.taken_at
        if self.catalog is EMPTY_CATALOG or age > CATALOG_REFRESH_S:
            return True
        return self._catalog_wanted and age > CATALOG_MIN_GAP_S

    async def _read_catalog(self, admin: EnvoyAdmin, started: float) -> None:
        big = self.catalog is EMPTY_CATALOG or len(self.catalog.names) > SMALL_CATALOG
        bodies = await admin.stats_typed_bodies(in_thread=big)
        if not self._catalog_wanted and line_counts(bodies) == self.catalog.counts:
            # the periodic check, nothing came or went: keep the names we have. Parsing
            # 214,000 names again only to drop the old ones fragments the heap (RSS grew
            # 46% over 30 minutes with a re-parse every 2 minutes: bench/soak.py).
            self.catalog = replace(self.catalog, taken_at=started)
        elif big:
            self.catalog = await asyncio.to_thread(parse_catalog, bodies, started)
        else:
            self.catalog = parse_catalog(bodies, started)
        self.tracker.kinds = replace(self.tracker.kinds, catalog=self.catalog.kinds)
        self.used.big = len(self.catalog.names) > BIG_SIDECAR
        self._catalog_wanted = False

    def failed(self, reason: str) -> StatsUpdate:
        return StatsUpdate(endpoint=self.endpoint.label, filter=self.filter, error=reason)

    def _digest(self, parts: tuple[str, ...], received: float) -> StatsSnapshot:
        """The used stats' text, by kind -> a snapshot of every stat, with changes and rates."""
        tracker = self.tracker
        snap = tracker.update_parts(parts, received)
        if tracker.unknown:
            # stats created since the catalog: the typed body each came in says its kind
            # (they are new, so no rate was due for them on this poll)
            tracker.kinds = self.used.with_kinds_of(tracker.unknown, tracker.kinds)
            snap = replace(snap, kinds=tracker.kinds, unknown_numeric=0)
        merged = self._merge.merge(snap, self.catalog)
        zeroed = tracker.unwritten_since_gap(merged.values, received)
        return replace(merged, resets=merged.resets | zeroed) if zeroed else merged

    async def read(self, admin: EnvoyAdmin, started: float) -> StatsUpdate | None:
        used = self.used
        if not self._matcher_read:
            await self._read_bootstrap(admin)
        if self._catalog_due(started):
            await self._read_catalog(admin, started)
        read = used.due(started, self.interval)
        for kind in read:
            # a big body is received off the event loop, so keys stay quick meanwhile
            body = await admin.stats_used(kind, in_thread=used.size(kind) > THREAD_PARSE_BYTES)
            used.store(kind, body, started)
        parts = used.parts()
        if sum(used.size(kind) for kind in read) > THREAD_PARSE_BYTES:
            # and diffed and merged off it: at 214,000 names a merge is a few ms of copying
            snap = await asyncio.to_thread(self._digest, parts, time.monotonic())
        else:
            snap = self._digest(parts, time.monotonic())
        marker = structure_marker(snap.values)
        if self._marker is not None and marker != self._marker:
            self._catalog_wanted = True  # clusters or listeners came or went
        self._marker = marker
        return StatsUpdate(
            matcher=self._matcher,
            endpoint=self.endpoint.label,
            filter=self.filter,
            snapshot=snap,
            fetch_ms=(time.monotonic() - started) * 1000,
            read=frozenset(read),
            every=tuple((kind, used.every(kind, self.interval)) for kind in ORDER),
        )
