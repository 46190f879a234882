"""Latency percentiles in fixed memory with bounded relative error: HDR histograms (the
`hdrhistogram` package, the same structure wrk2 and vegeta report from), one for the whole
run and one per second for a sliding window of the last seconds.

Values are recorded in microseconds from 1 us to 10 minutes with 3 significant digits: a
percentile is within 0.1% of the exact one, whatever the number of requests.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

LOWEST_US, HIGHEST_US, DIGITS = 1, 600_000_000, 3
WINDOW_S = 10


def _histogram() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


@dataclass(frozen=True)
class Percentiles:
    """Milliseconds; None when nothing was recorded."""

    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    count: int

    def as_json(self) -> dict[str, float | None]:
        return {"p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max}


def percentiles(h: HdrHistogram) -> Percentiles:
    n = int(h.get_total_count())
    if not n:
        return Percentiles(None, None, None, None, 0)

    def ms(us: float) -> float:
        return round(us / 1000, 3)

    return Percentiles(
        ms(h.get_value_at_percentile(50)),
        ms(h.get_value_at_percentile(90)),
        ms(h.get_value_at_percentile(99)),
        ms(h.get_max_value()),
        n,
    )


class Latencies:
    """The run's histogram and the last WINDOW_S seconds' ones; `tick()` each second."""

    def __init__(self, window_s: int = WINDOW_S) -> None:
        self.run = _histogram()
        self.seconds: collections.deque[HdrHistogram] = collections.deque([_histogram()], maxlen=window_s)

    def record(self, seconds: float) -> None:
        us = min(max(int(seconds * 1_000_000), LOWEST_US), HIGHEST_US)
        self.run.record_value(us)
        self.seconds[-1].record_value(us)

    def tick(self) -> None:
        """A new second: the oldest one leaves the window (its memory is reused)."""
        if len(self.seconds) == self.seconds.maxlen:
            oldest = self.seconds.popleft()
            oldest.reset()
            self.seconds.append(oldest)
        else:
            self.seconds.append(_histogram())

    def window(self) -> Percentiles:
        merged = _histogram()
        for h in self.seconds:
            merged.add(h)
        return percentiles(merged)

    def whole_run(self) -> Percentiles:
        return percentiles(self.run)
