"""istiod's `/metrics` (Prometheus text format), parsed with prometheus_client's parser.

Names are kept as istiod exposes them. prometheus_client reports a counter family under
its name without `_total` and renames samples to `<family>_total` even when istiod
exposed `pilot_xds_pushes` (OpenCensus counters carry no suffix), so the exposed name is
recovered from the body: that is the name a PromQL query against a Prometheus that
scraped istiod must use.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]


class IstiodError(Exception):
    """istiod's monitoring port could not be read or understood; the text is one line."""


class IstiodFormatError(IstiodError, ValueError):
    """A body that is not istiod's Prometheus text (or a syncz document that is not one)."""


@dataclass(frozen=True, slots=True)
class Sample:
    name: str  # as exposed: pilot_xds_pushes, pilot_xds_push_time_bucket, ...
    labels: Labels
    value: float

    def label(self, key: str, default: str = "") -> str:
        for k, v in self.labels:
            if k == key:
                return v
        return default


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # as exposed (a counter keeps the name istiod gave it, with or without _total)
    kind: str  # counter, gauge, histogram, summary, untyped, ...
    help: str
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Histogram:
    """One histogram series: cumulative buckets (upper bound, count), sum and count."""

    labels: Labels  # without `le`
    buckets: tuple[tuple[float, float], ...]
    sum: float
    count: float


@dataclass(frozen=True)
class Scrape:
    """One /metrics body: families by exposed name; `taken_at` is monotonic seconds."""

    families: dict[str, Family] = field(default_factory=dict)
    taken_at: float = 0.0

    def family(self, name: str) -> Family | None:
        return self.families.get(name) or self.families.get(name + "_total")

    def samples(self, name: str) -> tuple[Sample, ...]:
        f = self.family(name)
        return f.samples if f is not None else ()

    def value(self, name: str, **match: str) -> float | None:
        """The sum of the family's samples whose labels match (None: no such series)."""
        found = [s.value for s in self.samples(name) if all(s.label(k) == v for k, v in match.items())]
        return math.fsum(found) if found else None

    def by_label(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for s in self.samples(name):
            key = s.label(label)
            out[key] = out.get(key, 0.0) + s.value
        return out

    def histograms(self, name: str) -> tuple[Histogram, ...]:
        f = self.family(name)
        return histograms_of(f) if f is not None and f.kind == "histogram" else ()

    def series_count(self) -> int:
        return sum(len(f.samples) for f in self.families.values())


def _exposed_names(body: str) -> set[str]:
    """Every sample name the body exposes (the first token of each sample line)."""
    names = set()
    for line in body.split("\n"):  # prometheus_client reads lines as io.StringIO does: "\n" only
        if line and line[0] != "#":
            end = len(line)
            for sep in "{ \t":
                i = line.find(sep)
                if 0 <= i < end:
                    end = i
            names.add(line[:end])
    return names


def _check(body: str) -> None:
    if "\x00" in body:
        raise IstiodFormatError("not Prometheus text: binary data")
    if body.lstrip().startswith(("{", "[", "<")):
        raise IstiodFormatError("not Prometheus text: looks like JSON or HTML")


def parse_metrics(body: str, taken_at: float = 0.0) -> Scrape:
    """Parse a /metrics body; anything the parser refuses becomes an IstiodFormatError."""
    _check(body)
    families: dict[str, Family] = {}
    for block in split_families(body):
        # family by family: which names a block exposes decides a counter's name (a gauge
        # go_memstats_alloc_bytes beside a counter go_memstats_alloc_bytes_total)
        families.update(_parse_families(block))
    if body.strip() and not families:
        raise IstiodFormatError("not Prometheus text: no metric in the body")
    return Scrape(families, taken_at)


class ScrapeParser:
    """parse_metrics for a poll loop: a sample line whose text is as in the previous body
    is not parsed again. Between two polls of a big istiod most series (per-proxy gauges,
    idle histograms) are unchanged, and prometheus_client's parser costs ~30 us a series;
    the changed lines of a family are parsed together with the family's own # HELP/# TYPE
    lines, so the parser still decides every name, kind and value."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[tuple[str, str, str], dict[str, Sample]]] = {}
        self._families: dict[str, tuple[list[str], Family]] = {}  # unchanged: the same object

    def parse(self, body: str, taken_at: float = 0.0) -> Scrape:
        _check(body)
        families: dict[str, Family] = {}
        seen: dict[str, tuple[tuple[str, str, str], dict[str, Sample]]] = {}
        families_by_block: dict[str, tuple[list[str], Family]] = {}
        for block in split_families(body):
            lines = block.split("\n")[:-1]  # every block ends with "\n"
            head = [line for line in lines if line.startswith("#")]
            sample_lines = [line for line in lines if line.strip() and not line.startswith("#")]
            if not any(line.startswith("# TYPE ") for line in head):
                # untyped lines: the parser makes a family of each run of one name, which
                # a line-by-line memo cannot follow; rare in istiod's output, parsed whole
                families.update(_parse_families(block))
                continue
            key = "\n".join(head)
            meta, known = self._seen.get(key, (None, {}))
            missing = [line for line in sample_lines if line not in known]
            if missing or meta is None:
                parsed = _parse_families("\n".join(head + missing) + "\n")
                fam = next(iter(parsed.values())) if len(parsed) == 1 else None
                if (
                    fam is None
                    or len(fam.samples) != len(missing)
                    or (meta and meta[:2] != (fam.name, fam.kind))
                ):
                    families.update(_parse_families(block))  # not one plain family: parse it whole
                    continue
                meta = (fam.name, fam.kind, fam.help)
                known = {**known, **dict(zip(missing, fam.samples, strict=True))}
            seen[key] = (meta, {line: known[line] for line in sample_lines})
            before = self._families.get(key)
            if before is not None and before[0] == sample_lines and before[1].name == meta[0]:
                family = before[1]  # nothing moved: consumers can skip it by identity
            else:
                family = Family(meta[0], meta[1], meta[2], tuple(known[line] for line in sample_lines))
            families_by_block[key] = (sample_lines, family)
            families[meta[0]] = family
        self._seen = seen
        self._families = families_by_block
        if body.strip() and not families:
            raise IstiodFormatError("not Prometheus text: no metric in the body")
        return Scrape(families, taken_at)


def split_families(body: str) -> list[str]:
    """The body cut before each `# HELP` (or a `# TYPE` without one): one family a block."""
    blocks: list[str] = []
    current: list[str] = []
    after_help = False
    lines = body.split("\n")  # as the parser sees them: a "\r" does not end a line
    if lines and lines[-1] == "":
        lines.pop()
    for line in lines:
        starts = line.startswith("# HELP ") or (line.startswith("# TYPE ") and not after_help)
        if starts and current:
            blocks.append("\n".join(current) + "\n")
            current = []
        current.append(line)
        after_help = line.startswith("# HELP ")
    if current:
        blocks.append("\n".join(current) + "\n")
    return blocks


def _parse_families(body: str) -> dict[str, Family]:
    exposed = _exposed_names(body)
    declared = {
        line.split()[2] for line in body.split("\n") if line.startswith("# TYPE ") and len(line.split()) > 2
    }
    families: dict[str, Family] = {}
    try:
        for fam in text_string_to_metric_families(body):
            samples = tuple(_samples(fam.type, fam.name, fam.samples, exposed))
            name = fam.name
            if fam.type == "counter" and name not in exposed and name + "_total" in exposed | declared:
                name += "_total"  # as exposed; with no sample, as its # TYPE line declares it
            families[name] = Family(name, fam.type, fam.documentation, samples)
    except IstiodFormatError:
        raise
    except Exception as exc:  # the parser raises ValueError, IndexError, KeyError, TypeError ...
        raise IstiodFormatError(
            f"not Prometheus text: {_first_line(str(exc)) or type(exc).__name__}"
        ) from exc
    return families


def _samples(kind: str, family: str, samples: Iterable[object], exposed: set[str]) -> Iterable[Sample]:
    for s in samples:
        name: str = s.name  # type: ignore[attr-defined]
        if kind == "counter" and name.endswith("_total") and name not in exposed and family in exposed:
            name = family  # istiod exposed the counter without _total
        value = float(s.value)  # type: ignore[attr-defined]
        labels = tuple(sorted(s.labels.items()))  # type: ignore[attr-defined]
        yield Sample(name, labels, value)


def histograms_of(family: Family) -> tuple[Histogram, ...]:
    """Group a histogram family's samples into series (labels without `le`)."""
    buckets: dict[Labels, list[tuple[float, float]]] = {}
    sums: dict[Labels, float] = {}
    counts: dict[Labels, float] = {}
    for s in family.samples:
        if s.name.endswith("_bucket"):
            le = s.label("le")
            rest = tuple((k, v) for k, v in s.labels if k != "le")
            try:
                bound = float(le)
            except ValueError:
                continue  # a bucket without a readable `le` cannot be placed; Prometheus skips it too
            buckets.setdefault(rest, []).append((bound, s.value))
        elif s.name.endswith("_sum"):
            sums[s.labels] = s.value
        elif s.name.endswith("_count"):
            counts[s.labels] = s.value
    return tuple(
        Histogram(labels, tuple(sorted(b)), sums.get(labels, math.nan), counts.get(labels, math.nan))
        for labels, b in buckets.items()
    )


def merge(scrapes: Iterable[Scrape]) -> Scrape:
    """Several replicas as one: identical series summed (what `sum without (pod)` gives)."""
    totals: dict[str, tuple[Family, dict[tuple[str, Labels], float]]] = {}
    taken = 0.0
    for scrape in scrapes:
        taken = max(taken, scrape.taken_at)
        for name, fam in scrape.families.items():
            entry = totals.setdefault(name, (fam, {}))
            values = entry[1]
            for s in fam.samples:
                key = (s.name, s.labels)
                values[key] = values.get(key, 0.0) + s.value
    families = {
        name: Family(fam.name, fam.kind, fam.help, tuple(Sample(n, lab, v) for (n, lab), v in values.items()))
        for name, (fam, values) in totals.items()
    }
    return Scrape(families, taken)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:160] if text.strip() else ""
