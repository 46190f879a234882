"""The live stats loop for one sidecar: fetch -> diff -> yield, never overlapping.

`StatsFeed.updates()` is the one long-lived loop behind the stats pane. A filter
change or a resume wakes it at once; errors are yielded as one-line updates and
retried with a short backoff, so a dropped port-forward shows as a pane state
and heals by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.envoy.filter import StatFilter
from meshtui.envoy.stats import StatsFormatError
from meshtui.envoy.tracker import StatsSnapshot, StatsTracker

KINDS_REFRESH_S = 1.0  # at most this often, and only when unknown names appeared
THREAD_PARSE_BYTES = 256 * 1024
TYPING_PAUSE_S = 0.25  # a filter change re-polls once the user stops typing this long


class AdminEndpoint(Protocol):
    """Where an Envoy admin API is reached: a URL, or a port-forward to a pod's 15000."""

    @property
    def label(self) -> str: ...

    async def url(self) -> str: ...

    def explain(self, error: str) -> str: ...

    async def close(self) -> None: ...


@dataclass
class DirectEndpoint:
    """`--admin URL`: no Kubernetes, no forward."""

    base_url: str
    name: str = ""  # what to call it on screen; the URL by default

    @property
    def label(self) -> str:
        return self.name or self.base_url

    async def url(self) -> str:
        return self.base_url

    def explain(self, error: str) -> str:
        return error

    async def close(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class StatsUpdate:
    endpoint: str
    filter: StatFilter
    snapshot: StatsSnapshot | None = None
    error: str | None = None
    fetch_ms: float = 0.0
    envoy_filtered: bool = True  # False when Envoy refused the regex and we filter locally
    failures: int = 0


class StatsFeed:
    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.interval = max(interval, 0.2)
        self.timeout = timeout
        self.filter = StatFilter()
        self.paused = False
        self._wake = asyncio.Event()
        self._kinds_at = -1e9
        self._need_kinds = True
        self._typed_at = -1e9

    def set_filter(self, f: StatFilter) -> None:
        """Poll with this filter soon: after a short pause, so a burst of keys costs one poll.

        Kinds are not re-fetched here: names the index does not know show up as
        unknown in the next snapshot, and that triggers the (throttled) refresh.
        """
        if f != self.filter:
            self.filter = f
            self._typed_at = time.monotonic()
            self._wake.set()

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._wake.set()

    def poll_now(self) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))
        self._wake.clear()
        # still typing: wait for the pause (each new key moves it), then poll once
        while (pause := self._typed_at + TYPING_PAUSE_S - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        self._wake.clear()  # the keys typed during the pause are in this poll already

    async def updates(self) -> AsyncIterator[StatsUpdate]:
        tracker = StatsTracker()
        admin: EnvoyAdmin | None = None
        failures = 0
        regex_refused: str | None = None
        tracker_unknown = False
        try:
            while True:
                if self.paused:
                    await self._sleep(3600)
                    continue
                started = time.monotonic()
                f = self.filter
                try:
                    if admin is None:
                        admin = EnvoyAdmin(await self.endpoint.url(), timeout=self.timeout)
                    param = f.envoy_param()
                    if f.is_regex and regex_refused == f.text:
                        param = None
                    if self._need_kinds or (tracker_unknown and started - self._kinds_at > KINDS_REFRESH_S):
                        tracker.kinds = await admin.stat_kinds(param)
                        self._kinds_at, self._need_kinds = started, False
                        tracker_unknown = False
                    try:
                        body = await admin.stats_text(param)
                    except AdminError as exc:
                        if f.is_regex and exc.status == 400:
                            regex_refused = f.text  # Envoy's RE2 said no: filter locally
                            continue
                        raise
                    received = time.monotonic()
                    if len(body) > THREAD_PARSE_BYTES:
                        # a big body is diffed off the event loop, so keys stay quick meanwhile
                        snap = await asyncio.to_thread(tracker.update, body, received)
                    else:
                        snap = tracker.update(body, received)
                    tracker_unknown = tracker_unknown or snap.unknown_numeric > 0
                    failures = 0
                    yield StatsUpdate(
                        endpoint=self.endpoint.label,
                        filter=f,
                        snapshot=snap,
                        fetch_ms=(time.monotonic() - started) * 1000,
                        envoy_filtered=param is not None or f.empty,
                    )
                except (AdminError, StatsFormatError, OSError) as exc:
                    failures += 1
                    if admin is not None:
                        await admin.aclose()
                        admin = None
                    yield StatsUpdate(
                        endpoint=self.endpoint.label,
                        filter=f,
                        error=self.endpoint.explain(str(exc)),
                        failures=failures,
                    )
                    await self._sleep(min(0.25 * 2 ** (failures - 1), 1.0))
                    continue
                await self._sleep(started + self.interval - time.monotonic())
        finally:
            if admin is not None:
                await admin.aclose()
            await self.endpoint.close()
