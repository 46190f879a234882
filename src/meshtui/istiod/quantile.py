"""histogram_quantile() for classic histograms, exactly as Prometheus computes it.

Follows prometheus/prometheus promql/quantile.go (BucketQuantile, coalesceBuckets,
ensureMonotonicAndIgnoreSmallDeltas) and util/almost/almost.go (Equal): linear
interpolation inside the bucket, 0 as the lower bound of a first bucket above 0, the
upper bound of the second-highest bucket when the rank falls in +Inf, NaN for an empty
histogram, for fewer than two buckets or when the highest bucket is not +Inf.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence

# promql/quantile.go smallDeltaTolerance: relative bucket deltas below it are float noise
SMALL_DELTA_TOLERANCE = 1e-12
_MIN_NORMAL = sys.float_info.min  # util/almost: the smallest positive normal float64


def _almost_equal(a: float, b: float, epsilon: float) -> bool:
    """util/almost/almost.go Equal (StaleNaN cannot occur in scraped text)."""
    if math.isnan(a) and math.isnan(b):
        return True
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < _MIN_NORMAL:
        return diff < epsilon * _MIN_NORMAL
    return diff / min(abs_sum, sys.float_info.max) < epsilon


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """histogram_quantile(q, ...) over cumulative (upper bound, count) buckets."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(buckets, key=lambda b: b[0])
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return math.nan
    bounds, counts = _coalesce(ordered)
    _ensure_monotonic(counts)
    if len(bounds) < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    # sort.Search over all but the +Inf bucket: the first index whose count >= rank
    b = _search(counts, rank)
    if b == len(bounds) - 1:
        return bounds[-2]
    if b == 0 and bounds[0] <= 0:
        return bounds[0]
    start, end, count = 0.0, bounds[b], counts[b]
    if b > 0:
        start = bounds[b - 1]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * _go_div(rank, count)


def quantile_bucket(q: float, buckets: Iterable[tuple[float, float]]) -> tuple[float, float] | None:
    """The (lower, upper) bounds of the bucket `bucket_quantile(q)` interpolates in: the
    resolution of its answer (all it knows is that the value lies there). None when it
    gives no value; (b, +Inf) when the rank falls in +Inf, where it answers b."""
    if math.isnan(q) or q < 0 or q > 1:
        return None
    ordered = sorted(buckets, key=lambda b: b[0])
    if not ordered or not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return None
    bounds, counts = _coalesce(ordered)
    _ensure_monotonic(counts)
    if len(bounds) < 2 or counts[-1] == 0:
        return None
    b = _search(counts, q * counts[-1])
    if b == len(bounds) - 1:
        return bounds[-2], math.inf
    if b == 0:
        return (bounds[0], bounds[0]) if bounds[0] <= 0 else (0.0, bounds[0])
    return bounds[b - 1], bounds[b]


def _go_div(a: float, b: float) -> float:
    """Float division as Go does it: x/0 is ±Inf and 0/0 is NaN (q=0 on an empty first bucket)."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _search(counts: Sequence[float], rank: float) -> int:
    n = len(counts) - 1
    lo, hi = 0, n
    while lo < hi:  # Go's sort.Search: smallest i in [0, n) with counts[i] >= rank, else n
        mid = (lo + hi) // 2
        if counts[mid] >= rank:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _coalesce(ordered: list[tuple[float, float]]) -> tuple[list[float], list[float]]:
    """Buckets with the same upper bound are added together (coalesceBuckets)."""
    bounds: list[float] = []
    counts: list[float] = []
    for bound, count in ordered:
        if bounds and bounds[-1] == bound:
            counts[-1] += count
        else:
            bounds.append(bound)
            counts.append(count)
    return bounds, counts


def _ensure_monotonic(counts: list[float]) -> None:
    """ensureMonotonicAndIgnoreSmallDeltas: drop float noise, then every decrease."""
    prev = counts[0]
    for i in range(1, len(counts)):
        curr = counts[i]
        if curr == prev:
            continue
        if _almost_equal(prev, curr, SMALL_DELTA_TOLERANCE) or curr < prev:
            counts[i] = prev  # prev is kept: the difference is ignored
            continue
        prev = curr


def increase(current: float, previous: float) -> float:
    """A counter's increase between two scrapes; a drop is a reset (as rate() treats it)."""
    return current - previous if current >= previous else current


def bucket_increase(
    current: Sequence[tuple[float, float]], previous: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """Per-bucket increase between two scrapes: what histogram_quantile(q, rate(..)) sees."""
    before = dict(previous)
    return [(bound, increase(count, before.get(bound, 0.0))) for bound, count in current]


__all__ = ["bucket_increase", "bucket_quantile", "increase"]
