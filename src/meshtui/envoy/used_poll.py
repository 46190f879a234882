"""Which kinds of a sidecar's in-use stats to read on this tick (`/stats?usedonly&type=`).

A `/stats` request costs Envoy a walk over every stat of the types asked for, used or not,
plus the name of each used one it prints. At 214,000 stats (Envoy 1.40, bench/) one
`?usedonly` of everything cost ~35-45 ms of its CPU, a tick's worth of 3.5-4.5% of a core;
only the counters, ~15-20 ms. So each kind is read as often as it can change, or as its cost
allows:

- counters on every tick: the rates are made from them;
- histograms and text readouts once per stats flush: Envoy recomputes a histogram's
  quantiles only when it flushes (`stats_flush_interval`, 5 s by default and in Istio, or
  on each admin read with `stats_flush_on_admin`: envoy's docs/root/operations/admin.rst,
  `/stats`; istio's pkg/bootstrap/config.go), so reading them more often shows nothing new;
- gauges on every tick, except on a big sidecar (over `BIG_SIDECAR` stats) where they are
  read every `GAUGES_EVERY_BIG` s: there a gauge read alone costs ~2% of a core each second.

Between reads a kind's last body stands in for it (the same string object), so the
tracker skips it and a kind not read this tick shows no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from meshtui.envoy.stats import StatKind
from meshtui.envoy.tracker import StatKinds

ORDER: tuple[StatKind, ...] = ("counter", "gauge", "histogram", "text")
BIG_SIDECAR = 100_000  # stats; below it everything but histograms is read every tick
GAUGES_EVERY_BIG = 5.0  # seconds: with the histograms at Istio's default flush interval
DEFAULT_FLUSH_S = 5.0  # Envoy's stats_flush_interval when the bootstrap sets none


@dataclass(frozen=True, slots=True)
class FlushConfig:
    """The bootstrap's `stats_flush_interval` / `stats_flush_on_admin`."""

    interval_s: float = DEFAULT_FLUSH_S
    on_admin: bool = False  # each admin read flushes: histograms change on every read

    @classmethod
    def from_bootstrap(cls, bootstrap: Mapping[str, object]) -> FlushConfig:
        if bootstrap.get("stats_flush_on_admin") is True:
            return cls(on_admin=True)
        raw = bootstrap.get("stats_flush_interval")
        if isinstance(raw, str) and raw.endswith("s"):
            try:
                return cls(max(float(raw[:-1]), 0.001))
            except ValueError:
                pass
        return cls()


@dataclass
class UsedPoll:
    """The last `?usedonly&type=` body of each kind and when it was read."""

    flush: FlushConfig = field(default_factory=FlushConfig)
    big: bool = False
    _bodies: dict[StatKind, str] = field(default_factory=dict)
    _read_at: dict[StatKind, float] = field(default_factory=dict)

    def every(self, kind: StatKind, interval: float) -> float:
        """Seconds between two reads of `kind` at this refresh interval."""
        if kind == "counter":
            return interval
        if kind == "gauge":
            return max(interval, GAUGES_EVERY_BIG) if self.big else interval
        return interval if self.flush.on_admin else max(interval, self.flush.interval_s)

    def due(self, now: float, interval: float) -> tuple[StatKind, ...]:
        # half a tick early is on time: a tick that starts a little late must not skip
        read = self._read_at
        return tuple(
            kind
            for kind in ORDER
            if kind not in read or now - read[kind] >= self.every(kind, interval) - interval / 2
        )

    def size(self, kind: StatKind) -> int:
        return len(self._bodies.get(kind, ""))

    def store(self, kind: StatKind, body: str, at: float) -> None:
        self._bodies[kind] = body if not body or body.endswith("\n") else body + "\n"
        self._read_at[kind] = at

    def parts(self) -> tuple[str, ...]:
        """Each kind's last body, the same string object until the kind is read again
        (so `StatsTracker.update_parts` skips it)."""
        return tuple(self._bodies.get(kind, "") for kind in ORDER)

    def forget(self) -> None:
        """After a gap: read every kind on the next tick."""
        self._bodies.clear()
        self._read_at.clear()

    def with_kinds_of(self, names: Iterable[str], kinds: StatKinds) -> StatKinds:
        """`kinds` plus whether each of `names` (seen in a body, not in the catalog) is a
        counter or a gauge: the typed body it came in says. A few names each time a stat
        is first written, so searched for in the text rather than splitting 15,000 lines."""
        counter_text = "\n" + self._bodies.get("counter", "")
        gauge_text = "\n" + self._bodies.get("gauge", "")
        counters = {n for n in names if f"\n{n}: " in counter_text}
        gauges = {n for n in names if n not in counters and f"\n{n}: " in gauge_text}
        if not counters and not gauges:
            return kinds
        return replace(kinds, counters=kinds.counters | counters, gauges=kinds.gauges | gauges)
