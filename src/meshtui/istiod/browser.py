"""Every istiod series as a row for the metric browser: value, rate, histogram percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass

from meshtui.istiod.metrics import Family, Labels, Scrape, histograms_of
from meshtui.istiod.quantile import bucket_quantile, increase
from meshtui.istiod.summary import QUANTILES


@dataclass(frozen=True, slots=True)
class MetricRow:
    key: str  # name{labels}, as PromQL writes a series
    kind: str
    value: float  # a histogram's count
    rate: float | None = None  # counters (and histogram counts) per second
    quantiles: tuple[float, float, float] | None = None  # histograms, over istiod's life


def series_key(name: str, labels: Labels) -> str:
    if not labels:
        return name
    return name + "{" + ",".join(f'{k}="{v}"' for k, v in labels) + "}"


RowsCache = dict[str, tuple[Family, Family | None, dict[str, MetricRow]]]


def metric_rows(
    cur: Scrape, prev: Scrape | None = None, cache: RowsCache | None = None
) -> dict[str, MetricRow]:
    """Rows by series key. With a `cache` (kept by the poll loop), a family that is the
    same object as in the previous call, against the same previous family, is not redone."""
    rows: dict[str, MetricRow] = {}
    fresh: RowsCache = {}
    for name, fam in cur.families.items():
        was = prev.families.get(name) if prev is not None else None
        hit = cache.get(name) if cache is not None else None
        if hit is not None and hit[0] is fam and hit[1] is was:
            part = hit[2]
        else:
            part = _family_rows(fam, was, cur.taken_at - prev.taken_at if prev is not None else 0.0)
        fresh[name] = (fam, was, part)
        rows.update(part)
    if cache is not None:
        cache.clear()
        cache.update(fresh)
    return rows


def _family_rows(fam: Family, prev_fam: Family | None, dt: float) -> dict[str, MetricRow]:
    cur = Scrape({fam.name: fam})
    prev = Scrape({fam.name: prev_fam}) if prev_fam is not None else None
    before: dict[str, float] = {}
    if prev is not None and dt > 0:  # prev holds the one family, as cur does
        for fam in prev.families.values():
            if fam.kind == "histogram":  # compared by the same count as below: the last bucket's
                for h in histograms_of(fam):
                    before[series_key(fam.name, h.labels)] = h.buckets[-1][1] if h.buckets else h.count
                continue
            for s in fam.samples:
                before[series_key(s.name, s.labels)] = s.value
    rows: dict[str, MetricRow] = {}
    for fam in cur.families.values():
        if fam.kind == "histogram":
            for h in histograms_of(fam):
                key = series_key(fam.name, h.labels)
                count = h.buckets[-1][1] if h.buckets else h.count
                was = before.get(key)
                rate = increase(count, was) / dt if was is not None and dt > 0 else None
                q = (bucket_quantile(QUANTILES[0], h.buckets), bucket_quantile(QUANTILES[1], h.buckets))
                rows[key] = MetricRow(
                    key, "histogram", count, rate, (*q, bucket_quantile(QUANTILES[2], h.buckets))
                )
            continue
        counter = fam.kind == "counter"
        for s in fam.samples:
            if counter and s.name.endswith("_created"):
                continue
            key = series_key(s.name, s.labels)
            was = before.get(key) if counter else None
            rate = increase(s.value, was) / dt if was is not None and dt > 0 else None
            rows[key] = MetricRow(key, fam.kind, s.value, rate)
    return rows


def fmt_number(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.4g}"
