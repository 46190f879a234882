"""Every istiod series as a row for the metric browser: value, rate, histogram percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass

from meshtui.istiod.metrics import Labels, Scrape, histograms_of
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


def metric_rows(cur: Scrape, prev: Scrape | None = None) -> dict[str, MetricRow]:
    dt = cur.taken_at - prev.taken_at if prev is not None else 0.0
    before: dict[str, float] = {}
    if prev is not None and dt > 0:
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
