"""The one live loop: how every live source polls, backs off, goes stale and recovers.

Envoy's stats and clusters, istiod and Jaeger's trace search are each a `LiveFeed`
subclass that says how to read its source once (`poll`) and what a failed read looks
like (`failed`); this module owns the rest, the same way for all of them:

- polls never overlap: the next starts an interval after the previous one started, or
  at once when woken (a new filter, a resume, `r`); paused (view hidden) nothing is read;
  `interval=None` polls only when woken (a search run on demand);
- a failed read is retried after a `Backoff` (0.25 s doubling to 1 s, or to the interval
  if longer), so a dropped port-forward heals by itself; port-forwards and SSH re-open
  with the same `Backoff`;
- freshness: from the first failed poll in a row a source is stale. Its view keeps the
  last figures but dims them, blanks every rate and says "stale since HH:MM:SS: <why>,
  retrying" (meshtui/ui/stale.py). On a failure the feed's `restart_rates()` drops its
  baseline: the next two answered polls make the first rate again, never one across the
  gap (it would average the outage into a live-looking number). For the stats a pause is
  no gap: the change over it is a true total, and a counter reset during it still shows
  as `reset`. The clusters' rates and "last 10 s" errors describe now: shown again, their
  window starts then (envoy/clusters_feed.py) and says it is warming up.

Every update is a frozen dataclass with a `freshness` field, stamped here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

U = TypeVar("U")

MIN_INTERVAL = 0.2


@dataclass(frozen=True, slots=True)
class Freshness:
    stale_since: float | None = None  # wall-clock time (time.time) of the first failed poll in a row
    reason: str = ""  # why the source is not answering, one line
    failures: int = 0  # failed polls in a row
    fresh_polls: int = 0  # answered polls since the start or since the last failure

    @property
    def stale(self) -> bool:
        return self.stale_since is not None

    @property
    def rates_ready(self) -> bool:
        """Two answered polls in a row: a rate between them is a real rate."""
        return not self.stale and self.fresh_polls >= 2

    def since_text(self) -> str:
        if self.stale_since is None:
            return ""
        return time.strftime("%H:%M:%S", time.localtime(self.stale_since))

    def state_line(self) -> str:
        """`stale since 17:05:32: webapp's Envoy is not answering, retrying`"""
        if not self.stale:
            return ""
        return f"stale since {self.since_text()}: {self.reason}, retrying"


class FreshnessTracker:
    """Counts answered and failed polls of one source; the clock is wall time for the screen."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.current = Freshness()

    def succeeded(self) -> Freshness:
        self.current = Freshness(fresh_polls=self.current.fresh_polls + 1)
        return self.current

    def failed(self, reason: str) -> Freshness:
        c = self.current
        self.current = Freshness(
            stale_since=c.stale_since if c.stale_since is not None else self.clock(),
            reason=reason,
            failures=c.failures + 1,
        )
        return self.current


class Backoff:
    """The wait before trying again after failures in a row: `first`, doubling, up to `cap`.

    One rule for feeds (capped at 1 s, or their interval if longer: recovery is seen about
    as soon as a normal poll would see it), port-forwards and SSH (capped at 5 s: a pod or
    host that is down is not hammered). A feed retrying faster than 1 s would only count up
    its forward's own failures and push the forward's back-off out (tests/mesh/test_soak.py:
    20 dropped forwards at a 0.25 s interval, recovered in under 3 s each only with 1 s).
    """

    def __init__(self, first: float = 0.25, cap: float = 5.0) -> None:
        self.first, self.cap = first, cap
        self.failures = 0

    def failed(self) -> float:
        """Count one more failure; the seconds to wait before the next try."""
        self.failures += 1
        return self.delay()

    def delay(self) -> float:
        if self.failures == 0:
            return 0.0
        return min(self.first * 2 ** (self.failures - 1), self.cap)

    def reset(self) -> None:
        self.failures = 0


def one_line(exc: BaseException) -> str:
    """An exception as the one line a pane shows (never a traceback)."""
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class LiveFeed(Generic[U]):
    """Subclasses say how to poll (`poll`) and how to report a failure (`failed`); the loop,
    the back-off and the freshness stamps are here.

    `errors` are the exceptions that mean "the source did not answer" (each backend's own
    error, format errors as ValueError, OSError); anything else is a bug and ends the loop.
    """

    errors: ClassVar[tuple[type[Exception], ...]] = (ValueError, OSError)

    def __init__(self, interval: float | None = 1.0) -> None:
        self.interval = None if interval is None else max(interval, MIN_INTERVAL)
        self.paused = False
        self.freshness = FreshnessTracker()
        self.backoff = Backoff(cap=_retry_cap(self.interval))
        self._wake = asyncio.Event()
        self._retimed = False  # woken only to wait by a new interval

    # -- what a source says ------------------------------------------------------------

    async def poll(self, started: float) -> U | None:
        """One read of the source; None means: poll again at once (the request was adjusted)."""
        raise NotImplementedError

    def failed(self, reason: str) -> U:
        """The update that says the source did not answer (stamped stale by the loop)."""
        raise NotImplementedError

    def explain(self, error: str) -> str:
        """The one line for a failure; a forwarded source says what its forward knows."""
        return error

    def restart_rates(self) -> None:
        """Forget the previous poll: the source was gone, so no rate may span the gap."""

    async def disconnect(self) -> None:
        """After a failure: drop connections, so the next poll opens fresh ones."""

    async def close(self) -> None:
        """The loop ended (the view left the source): release what the feed holds."""

    # -- what a view says --------------------------------------------------------------

    def set_paused(self, paused: bool) -> None:
        if paused == self.paused:
            return  # told again (a place shown twice): no extra poll, rates stay per interval
        self.paused = paused
        self._wake.set()

    def set_interval(self, interval: float | None) -> None:
        """From the next wait on: a shorter one that is already over polls at once, None
        (on demand) waits for `poll_now`."""
        self.interval = None if interval is None else max(interval, MIN_INTERVAL)
        self.backoff.cap = _retry_cap(self.interval)
        self._retimed = True
        self._wake.set()

    def poll_now(self) -> None:
        self._wake.set()

    # -- the loop ----------------------------------------------------------------------

    async def _sleep(self, seconds: float | None) -> None:
        """Until `seconds` have passed (None: forever) or the feed is woken."""
        if seconds is None:
            await self._wake.wait()
        else:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=max(seconds, 0.0))
        self._wake.clear()

    def next_due(self, started: float) -> float:
        """When the poll after the one that started at `started` is due (monotonic)."""
        return started + (self.interval or 0.0)

    async def _next_poll(self, started: float) -> None:
        """Until the next poll is due, as long as the interval is when the wait ends."""
        while True:
            interval, self._retimed = self.interval, False
            await self._sleep(None if interval is None else self.next_due(started) - time.monotonic())
            if not self._retimed or self.paused:
                return

    async def updates(self) -> AsyncGenerator[U, None]:
        try:
            while True:
                if self.paused:
                    await self._sleep(None)
                    continue
                started = time.monotonic()
                try:
                    update = await self.poll(started)
                except self.errors as exc:
                    self.backoff.failed()
                    await self.disconnect()
                    self.restart_rates()
                    why = self.explain(one_line(exc))
                    yield _stamped(self.failed(why), self.freshness.failed(why))
                    await self._sleep(self.backoff.delay())
                    continue
                if update is None:
                    continue
                self.backoff.reset()
                yield _stamped(update, self.freshness.succeeded())
                await self._next_poll(started)
        finally:
            await self.disconnect()
            await self.close()


def _retry_cap(interval: float | None) -> float:
    return max(interval or 1.0, 1.0)


def _stamped(update: U, freshness: Freshness) -> U:
    return dataclasses.replace(update, freshness=freshness)  # type: ignore[type-var]
