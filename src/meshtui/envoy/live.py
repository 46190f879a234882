"""The one long-lived poll loop behind every live view of one Envoy admin endpoint.

fetch -> diff -> yield, never overlapping: the next poll starts an interval after the
previous one started, or at once when woken (a new filter, a resume, `r`). Errors are
yielded as one-line updates and retried with a short backoff, so a dropped
port-forward shows as a pane state and heals by itself.

Every update carries a `Freshness` (meshtui/freshness.py): updates must be dataclasses
with a `freshness` field. On a failure the feed calls `restart_rates()` so its trackers
drop their baseline: the next two answered polls make the first rate again, never one
across the gap. (A pause is no gap: the rate over it is a true average, and a counter
reset during it still shows as `reset`.)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from meshtui.envoy.admin import AdminError, EnvoyAdmin
from meshtui.freshness import FreshnessTracker

U = TypeVar("U")


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


class LiveFeed(Generic[U]):
    """Subclasses say how to poll (`poll`) and how to report a failure (`failed`)."""

    def __init__(self, endpoint: AdminEndpoint, interval: float = 1.0, timeout: float = 5.0) -> None:
        self.endpoint = endpoint
        self.interval = max(interval, 0.2)
        self.timeout = timeout
        self.paused = False
        self.freshness = FreshnessTracker()
        self._wake = asyncio.Event()

    async def poll(self, admin: EnvoyAdmin, started: float) -> U | None:
        """One poll; None means: poll again at once (the request was adjusted)."""
        raise NotImplementedError

    def failed(self, message: str, failures: int) -> U:
        raise NotImplementedError

    def restart_rates(self) -> None:
        """Forget the previous poll: the source was gone or not polled for a while."""

    def hold_until(self) -> float:
        """A monotonic time before which a woken loop should not poll yet (typing)."""
        return 0.0

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self._wake.set()

    def poll_now(self) -> None:
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))
        self._wake.clear()
        while (pause := self.hold_until() - time.monotonic()) > 0:
            await asyncio.sleep(pause)
        self._wake.clear()  # what woke us during the hold is in this poll already

    async def updates(self) -> AsyncIterator[U]:
        admin: EnvoyAdmin | None = None
        failures = 0
        try:
            while True:
                if self.paused:
                    await self._sleep(3600)
                    continue
                started = time.monotonic()
                try:
                    if admin is None:
                        admin = EnvoyAdmin(await self.endpoint.url(), timeout=self.timeout)
                    update = await self.poll(admin, started)
                    if update is None:
                        continue
                    failures = 0
                    yield _stamped(update, self.freshness.succeeded())
                except (AdminError, ValueError, OSError) as exc:  # format errors are ValueErrors
                    failures += 1
                    if admin is not None:
                        await admin.aclose()
                        admin = None
                    self.restart_rates()
                    why = self.endpoint.explain(str(exc))
                    yield _stamped(self.failed(why, failures), self.freshness.failed(why))
                    await self._sleep(min(0.25 * 2 ** (failures - 1), 1.0))
                    continue
                await self._sleep(started + self.interval - time.monotonic())
        finally:
            if admin is not None:
                await admin.aclose()
            await self.endpoint.close()


def _stamped(update: Any, freshness: Any) -> Any:
    return dataclasses.replace(update, freshness=freshness)
