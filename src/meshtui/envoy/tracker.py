"""Turn successive `/stats` bodies of one Envoy into snapshots with deltas and rates.

This runs every refresh tick on bodies of up to ~50,000 lines, so it works on whole
lines: only the lines whose text changed since the previous body are split and
converted, and the value table of the previous snapshot is copied, not rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from meshtui.envoy.stats import StatKind, StatsFormatError, raw_kind

_EMPTY: Mapping[str, float] = MappingProxyType({})
_NO_LINES: frozenset[str] = frozenset()
_BLANK = frozenset({""})
_EMPTY_INT: Mapping[str, int] = MappingProxyType({})
_EMPTY_KINDS: Mapping[str, StatKind] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StatKinds:
    """Which names Envoy reported as gauges and counters (`/stats?type=...`).

    Plain `/stats` text does not say. `counters`/`gauges` are the cheap answer for the
    stats in use (`?usedonly&type=`); `catalog` is every stat's kind from the last full
    refresh (envoy/stats_catalog.py). Names seen since both are `unknown` until the next.
    """

    gauges: AbstractSet[str] = frozenset()
    counters: AbstractSet[str] = frozenset()
    catalog: Mapping[str, StatKind] = field(default_factory=lambda: _EMPTY_KINDS)

    def kind_of(self, name: str, raw: str) -> StatKind:
        if name in self.counters:
            return "counter"
        if name in self.gauges:
            return "gauge"
        known = self.catalog.get(name)
        if known is not None:
            return known
        shape = raw_kind(raw)
        if shape == "number":
            return "unknown"
        return "text" if shape == "text" else "histogram"

    def is_counter(self, name: str) -> bool:
        return name in self.counters or self.catalog.get(name) == "counter"

    def knows(self, name: str) -> bool:
        return name in self.counters or name in self.gauges or name in self.catalog

    @property
    def empty(self) -> bool:
        return not (self.counters or self.gauges or self.catalog)


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """One poll of one Envoy's stats, with what moved since the poll before."""

    names: tuple[str, ...]  # sorted; the same object while the name set is unchanged
    values: Mapping[str, str]  # raw values exactly as Envoy printed them
    deltas: Mapping[str, int]  # numeric stats whose value changed: new - old
    rates: Mapping[str, float]  # counters that grew: per second since the previous poll
    resets: frozenset[str]  # counters that went down (Envoy restarted, counters reset)
    kinds: StatKinds = field(default_factory=StatKinds)
    taken_at: float = 0.0  # time.monotonic() of the poll
    elapsed: float | None = None  # seconds since the previous poll, None on the first
    unknown_numeric: int = 0  # numeric names missing from `kinds`
    # the names written at least once (`/stats?usedonly`), sorted; `names` when not known
    in_use: tuple[str, ...] | None = None

    def kind(self, name: str) -> StatKind:
        return self.kinds.kind_of(name, self.values[name])

    def without_changes(self) -> StatsSnapshot:
        """The same values with no deltas, rates or resets: what a stale view shows."""
        return replace(self, deltas=_EMPTY_INT, rates=_EMPTY, resets=frozenset())


RESET_SHOWN_S = 10.0


class StatsTracker:
    """Keeps the previous body of one Envoy and diffs each new one against it."""

    def __init__(self) -> None:
        self._parts: list[str] = []  # the last body, by part (the same objects)
        self._part_lines: list[frozenset[str]] = []
        self._values: dict[str, str] = {}
        self._names: tuple[str, ...] = ()
        self._taken_at: float | None = None
        self.kinds = StatKinds()
        self.unknown: tuple[str, ...] = ()  # the last update's numeric names `kinds` lacks
        # the values before a gap in polling (the source did not answer): the first answer
        # after it has no deltas or rates, but a counter below its value then was reset
        # (an Envoy restarted: 40 -> 0 showed as a plain 0)
        self.before_gap: Mapping[str, str] | None = None
        self._reset_at: dict[str, float] = {}  # counter -> when it was found reset
        self.after_gap: Mapping[str, str] | None = None  # the values before the gap just closed
        # the same, kept RESET_SHOWN_S after the gap: a restarted Envoy writes a counter only
        # once it has the config that makes it (its clusters come over xDS after its first
        # answer), and that counter then starts again from 0 too
        self._gap_values: tuple[Mapping[str, str], float] | None = None

    def gap(self) -> None:
        """The source stopped answering: forget the baseline, keep its values for resets."""
        kinds, before, reset_at = self.kinds, self._values or self.before_gap, self._reset_at
        self.reset()
        self.kinds, self.before_gap, self._reset_at = kinds, before, reset_at

    def reset(self) -> None:
        """Forget history (a new pod or a new filter): the next poll starts fresh."""
        self.__init__()  # type: ignore[misc]

    def unwritten_since_gap(self, values: Mapping[str, str], now: float) -> set[str]:
        """After a gap, the counters the body lacks but the merged view has at 0 (a
        restarted Envoy lists only the stats written since, usedonly): reset too, and
        marked so for RESET_SHOWN_S like the others."""
        if not self.after_gap:
            return set()
        read, is_counter = self._values, self.kinds.is_counter
        out = {
            n
            for n, old in self.after_gap.items()
            if n not in read and values.get(n) == "0" and old[:1].isdigit() and old != "0" and is_counter(n)
        }
        for name in out:
            self._reset_at[name] = now
        return out

    def update(self, body: str, now: float) -> StatsSnapshot:
        return self.update_parts((body,), now)

    def update_parts(self, parts: Sequence[str], now: float) -> StatsSnapshot:
        """As `update` for a body in parts (one per kind of stat): a part that is the same
        string object as last time (a kind not read on this poll) is not split again."""
        if len(parts) != len(self._parts):
            self._parts, self._part_lines = [""] * len(parts), [_NO_LINES] * len(parts)
        added: set[str] = set()
        for i, part in enumerate(parts):
            if part is self._parts[i]:
                continue
            lines = frozenset(part.splitlines()) - _BLANK
            added |= lines - self._part_lines[i]  # new stats, or stats whose value changed
            self._parts[i], self._part_lines[i] = part, lines
        current_size = sum(len(lines) for lines in self._part_lines)
        values = self._values.copy()
        new_names: list[str] = []
        deltas: dict[str, int] = {}
        is_counter = self.kinds.is_counter
        for line in added:
            name, sep, raw = line.partition(": ")
            if not sep:
                if not line.strip():
                    continue
                raise StatsFormatError(f"not 'name: value': {line[:60]!r}")
            old = values.get(name)
            values[name] = raw
            if old is None:
                new_names.append(name)
                continue
            if raw[:1].isdigit() and old[:1].isdigit():
                try:
                    deltas[name] = int(raw) - int(old)
                except ValueError:
                    continue  # a float gauge; no integer delta
        if len(values) != current_size:
            # stats disappeared (rare: a cluster removed): only then look for which
            present = {line.partition(": ")[0] for lines in self._part_lines for line in lines}
            gone = [name for name in values if name not in present]
            for name in gone:
                del values[name]
            self._names = tuple(n for n in self._names if n in present)
        if new_names:
            # merged, not re-split from the body: sorted() of sorted runs is a linear merge
            self._names = tuple(sorted(self._names + tuple(new_names)))
        elapsed = None if self._taken_at is None else max(now - self._taken_at, 1e-6)
        rates: dict[str, float] = {}
        resets: set[str] = set()
        for name, delta in deltas.items():
            if delta < 0:
                if is_counter(name):
                    resets.add(name)
            elif elapsed is not None and is_counter(name):
                rates[name] = delta / elapsed
        self.after_gap = self.before_gap  # for the caller: counters this body no longer has
        if self.before_gap is not None:
            resets |= _reset_since(self.before_gap, values, is_counter)
            self._gap_values, self.before_gap = (self.before_gap, now), None
        elif new_names and self._gap_values is not None:
            before, since = self._gap_values
            if now - since < RESET_SHOWN_S:
                resets |= _reset_since({n: before[n] for n in new_names if n in before}, values, is_counter)
            else:
                self._gap_values = None
        # a reset stays marked RESET_SHOWN_S, not one poll: an Envoy restarted between two
        # glances at the screen still shows it (its rate comes back after)
        for name in resets:
            self._reset_at[name] = now
        if self._reset_at:
            # (kept whether this body has the stat or not: unwritten_since_gap marks some it lacks)
            self._reset_at = {n: t for n, t in self._reset_at.items() if now - t < RESET_SHOWN_S}
            resets |= self._reset_at.keys()
        self._values = values
        self._taken_at = now
        self.unknown = ()
        if new_names and not self.kinds.empty:
            self.unknown = tuple(n for n in new_names if not self.kinds.knows(n) and values[n][:1].isdigit())
        unknown = len(self.unknown)
        return StatsSnapshot(
            names=self._names,
            values=MappingProxyType(values),
            deltas=MappingProxyType(deltas),
            rates=MappingProxyType(rates) if rates else _EMPTY,
            resets=frozenset(resets),
            kinds=self.kinds,
            taken_at=now,
            elapsed=elapsed,
            unknown_numeric=unknown,
        )


def _reset_since(
    before: Mapping[str, str], values: Mapping[str, str], is_counter: Callable[[str], bool]
) -> set[str]:
    """The counters whose value is below the one they had before a gap."""
    out = set()
    for name, old in before.items():
        raw = values.get(name)
        if raw is not None and raw[:1].isdigit() and old[:1].isdigit() and raw != old and is_counter(name):
            try:
                if int(raw) < int(old):
                    out.add(name)
            except ValueError:
                continue  # a float gauge
    return out
