"""How far to trust what a live view shows: the one staleness rule for every live view.

A view's source stops answering (forward dropped, Envoy gone, pod deleted, API server
down): from the first failed poll its figures are stale. The view keeps the last values
but dims them, blanks every rate and change, and says since when and why. When the
source answers again, rates restart from the next two polls: a rate across the gap
would average the outage into a live-looking number.

Feeds built on `envoy/live.py`'s LiveFeed get this for free (their updates carry a
`freshness` field); any other poll loop (istiod, Jaeger) keeps a FreshnessTracker,
calls `succeeded()` / `failed(why)` per poll and drops its rate baseline whenever
`failed` is called. Widgets render it with `meshtui.ui.stale`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


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
