"""Every stat an Envoy has, used or not, so the live poll can ask only for the used ones.

Envoy creates most of a big sidecar's stats and never writes them: with 2,000 clusters,
214,000 stats of which ~15,000 are in use. A stat never written still holds its initial
value -- 0 for a counter or gauge, no samples for a histogram, "" for a text readout --
and `/stats?usedonly` lists exactly the others (Envoy's `StatsParams::used_only_`, the
`used()` flag a stat sets on its first write, checked in envoy's
source/server/admin/stats_request.cc).

So a full `/stats` (17.8 MB, ~130-260 ms of Envoy's CPU at that size) is read rarely,
as four typed bodies that also say each stat's kind, and the view's values come from a
`?usedonly` poll each second (1.2 MB, ~15-30 ms): `StatValues` answers for every name,
with the used value where there is one and the initial value otherwise.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from meshtui.envoy.stats import NO_VALUES, StatKind, StatsFormatError
from meshtui.envoy.tracker import StatsSnapshot

# Envoy's `/stats?type=` labels (envoy's source/server/admin/stats_handler.cc), by our kind
TYPED_BODIES: dict[StatKind, str] = {
    "counter": "Counters",
    "gauge": "Gauges",
    "histogram": "Histograms",
    "text": "TextReadouts",
}
# what a stat never written prints in `/stats` text
UNUSED_RAW: dict[StatKind, str] = {"counter": "0", "gauge": "0", "histogram": NO_VALUES, "text": '""'}

# counters that move when Envoy creates or drops whole scopes of stats (a cluster or a
# listener came or went): the name set changed beyond what `usedonly` shows
STRUCTURE_COUNTERS = (
    "cluster_manager.cluster_added",
    "cluster_manager.cluster_removed",
    "listener_manager.listener_added",
    "listener_manager.listener_removed",
    "listener_manager.listener_modified",
)


@dataclass(frozen=True, slots=True)
class StatsCatalog:
    names: tuple[str, ...]  # sorted
    kinds: Mapping[str, StatKind]
    taken_at: float = 0.0
    counts: tuple[int, ...] = ()  # lines per typed body: a cheap "same names as before?"


EMPTY_CATALOG = StatsCatalog((), MappingProxyType({}))


def parse_catalog(bodies: Mapping[StatKind, str], taken_at: float = 0.0) -> StatsCatalog:
    """The four typed `/stats` text bodies -> every name with its kind."""
    kinds: dict[str, StatKind] = {}
    for kind, body in bodies.items():
        for line in body.splitlines():
            name, sep, _ = line.partition(": ")
            if not sep:
                if not line.strip():
                    continue
                raise StatsFormatError(f"not 'name: value': {line[:60]!r}")
            kinds[name] = kind
    return StatsCatalog(tuple(sorted(kinds)), MappingProxyType(kinds), taken_at, line_counts(bodies))


def line_counts(bodies: Mapping[StatKind, str]) -> tuple[int, ...]:
    return tuple(body.count("\n") for body in bodies.values())


def structure_marker(values: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(values.get(name, "") for name in STRUCTURE_COUNTERS)


class StatValues(Mapping[str, str]):
    """Every stat's raw value: the used ones from the last poll, the initial one otherwise."""

    __slots__ = ("_kinds", "_names", "_used")

    def __init__(self, used: Mapping[str, str], catalog: StatsCatalog, names: tuple[str, ...]) -> None:
        self._used = used
        self._kinds = catalog.kinds
        self._names = names

    def __getitem__(self, name: str) -> str:
        raw = self._used.get(name)
        if raw is not None:
            return raw
        return UNUSED_RAW[self._kinds[name]]  # KeyError for a name Envoy does not have

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        raw = self._used.get(name)
        if raw is not None:
            return raw
        kind = self._kinds.get(name)
        return default if kind is None else UNUSED_RAW[kind]

    def __contains__(self, name: object) -> bool:
        return name in self._used or name in self._kinds

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class CatalogMerge:
    """Puts a used-only snapshot and the catalog together; the merged name tuple is kept
    (the same object) while neither the catalog nor the names it lacks change, so views
    re-filter only then (a stat first written is in the catalog already: same names)."""

    def __init__(self) -> None:
        self._for: tuple[object, object] | None = None
        self._extra: list[str] = []
        self._names: tuple[str, ...] = ()

    def merge(self, used: StatsSnapshot, catalog: StatsCatalog) -> StatsSnapshot:
        if catalog is EMPTY_CATALOG:
            return used
        if self._for is None or self._for[0] is not used.names or self._for[1] is not catalog:
            kinds = catalog.kinds
            extra = [n for n in used.names if n not in kinds]  # created since the catalog
            if self._for is None or self._for[1] is not catalog or extra != self._extra:
                self._names = _merged(catalog.names, extra)
                self._extra = extra
            self._for = (used.names, catalog)
        return StatsSnapshot(
            names=self._names,
            values=StatValues(used.values, catalog, self._names),
            deltas=used.deltas,
            rates=used.rates,
            resets=used.resets,
            kinds=used.kinds,
            taken_at=used.taken_at,
            elapsed=used.elapsed,
            unknown_numeric=used.unknown_numeric,
            in_use=used.names,
        )


def _merged(names: tuple[str, ...], extra: list[str]) -> tuple[str, ...]:
    """Sorted names plus more (sorted too), by bisection and slices: a sort, or any pass
    that compares all 214,000 names (long common prefixes), held the event loop ~20 ms
    each time a new stat was first written."""
    if not extra:
        return names
    out: list[str] = []
    at = 0
    for name in extra:
        i = bisect_left(names, name, at)
        out.extend(names[at:i])
        out.append(name)
        at = i
    out.extend(names[at:])
    return tuple(out)
