"""Our percentiles against a real Prometheus's histogram_quantile on the same data."""

from __future__ import annotations

import math
import time

import pytest

from helpers.istiod_fake import SEED_METRICS
from helpers.prometheus_oracle import prometheus_scraping
from meshtui.istiod.metrics import parse_metrics
from meshtui.istiod.quantile import bucket_quantile
from meshtui.istiod.summary import QUANTILES, summarise

# Edge cases of promql/quantile.go, as a scrape: (upper bound label, cumulative count)
EDGE_CASES: dict[str, list[tuple[str, float]]] = {
    "linear": [("1", 0), ("2", 10), ("+Inf", 10)],
    "first_bucket": [("1", 10), ("+Inf", 10)],
    "in_inf": [("1", 1), ("2", 1), ("+Inf", 100)],
    "empty": [("1", 0), ("+Inf", 0)],
    "no_inf": [("1", 5), ("2", 10)],
    "only_inf": [("+Inf", 10)],
    "negative": [("-1", 5), ("1", 10), ("+Inf", 10)],
    "not_monotonic": [("1", 10), ("2", 5), ("4", 20), ("+Inf", 20)],
    "same_bound": [("1", 4), ("1.0", 4), ("2", 8), ("+Inf", 8)],
}
# Prometheus 2.49 (#13153) started ignoring relative bucket deltas under 1e-12; we follow
# quantile.go as it is now, Debian's Prometheus 2.42 does not: compared in a test of its own.
FLOAT_NOISE = [("0.5", 3), ("1", 1000000000000.0), ("2", 999999999999.9999), ("+Inf", 1000000000001.0)]


def edge_body() -> str:
    lines = ["# TYPE edge_case_seconds histogram"]
    for case, buckets in [*EDGE_CASES.items(), ("float_noise", FLOAT_NOISE)]:
        for le, count in buckets:
            lines.append(f'edge_case_seconds_bucket{{case="{case}",le="{le}"}} {count!r}')
    return "\n".join(lines) + "\n"


def edge_buckets(case: str) -> list[tuple[float, float]]:
    return [(float(le), count) for le, count in EDGE_CASES.get(case, FLOAT_NOISE)]


@pytest.fixture(scope="module")
def prom():
    with prometheus_scraping({"istiod": SEED_METRICS.read_text(), "edge": edge_body()}) as p:
        print(f"\nPrometheus up and scraped in {p.startup_seconds:.1f}s")  # type: ignore[attr-defined]
        yield p


def same(ours: float, theirs: float) -> bool:
    if math.isnan(theirs):
        return math.isnan(ours)
    return ours == pytest.approx(theirs, rel=1e-12, abs=1e-15)


@pytest.fixture(scope="module")
def summary():
    return summarise(parse_metrics(SEED_METRICS.read_text()), now=time.time())


FIGURES = [
    ("convergence", "pilot_proxy_convergence_time_bucket", ""),
    ("queue_time", "pilot_proxy_queue_time_bucket", ""),
    ("push_time", "pilot_xds_push_time_bucket", ""),
    ("config_size", "pilot_xds_config_size_bytes_bucket", ""),
]


@pytest.mark.parametrize(("attr", "series", "_"), FIGURES)
def test_seed_percentiles_equal_prometheus(prom, summary, attr, series, _):
    ours = getattr(summary, attr).lifetime
    for q, mine in zip(QUANTILES, ours, strict=True):
        theirs = prom.scalar(f"histogram_quantile({q}, sum by (le) ({series}))")
        assert same(mine, theirs), (attr, q, mine, theirs)


def test_per_type_percentiles_equal_prometheus(prom, summary):
    for xds_type, p in summary.push_time_by_type.items():
        for q, mine in zip(QUANTILES, p.lifetime, strict=True):
            expr = f'histogram_quantile({q}, sum by (le) (pilot_xds_push_time_bucket{{type="{xds_type}"}}))'
            assert same(mine, prom.scalar(expr)), (xds_type, q)
    for short, p in summary.config_size_by_type.items():
        for q, mine in zip(QUANTILES, p.lifetime, strict=True):
            expr = (
                f"histogram_quantile({q}, sum by (le) "
                f'(pilot_xds_config_size_bytes_bucket{{type=~".*\\\\.{short}"}}))'
            )
            assert same(mine, prom.scalar(expr)), (short, q)


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("q", [0.0, 0.1, 0.5, 0.75, 0.9, 0.99, 1.0])
def test_edge_cases_equal_prometheus(prom, case, q):
    expr = f'histogram_quantile({q}, sum by (le) (edge_case_seconds_bucket{{case="{case}"}}))'
    result = prom.query(expr)
    theirs = float(result[0]["value"][1]) if result else math.nan
    assert same(bucket_quantile(q, edge_buckets(case)), theirs), (case, q, theirs)


def test_float_noise_between_buckets(prom):
    """Buckets that differ by float noise: Prometheus >= 2.49 treats them as equal (ours too)."""
    theirs = prom.scalar('histogram_quantile(1, sum by (le) (edge_case_seconds_bucket{case="float_noise"}))')
    assert bucket_quantile(1.0, edge_buckets("float_noise")) == 1.0
    # 2.42 lets the last +1 count through and answers the second-highest bound; >= 2.49 says 1
    assert theirs in (1.0, 2.0)


def test_the_resolution_of_a_percentile_is_shown_beside_prometheuss_value(prom, summary):
    """Every seed convergence sample is in the first bucket (le=0.1): Prometheus answers
    50/90/99 ms by interpolating inside it. The value stays Prometheus's; the screen says
    that all it knows is `≤ 100 ms`."""
    from meshtui.ui.istiod.tables import summary_text

    conv = summary.convergence
    theirs = [
        prom.scalar(f"histogram_quantile({q}, sum by (le) (pilot_proxy_convergence_time_bucket))")
        for q in QUANTILES
    ]
    assert all(same(m, t) for m, t in zip(conv.lifetime, theirs, strict=True))
    assert conv.one_bucket == (0.0, 0.1)
    text = str(summary_text(summary, []))
    line = next(line for line in text.splitlines() if line.startswith("convergence"))
    assert "P50/P90/P99 50/90/99 ms over 95 (all in one bucket: ≤ 100 ms)" in line, line


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9, 0.99])
def test_prometheuss_answer_lies_in_the_bucket_we_name(prom, case, q):
    from meshtui.istiod.quantile import quantile_bucket

    expr = f'histogram_quantile({q}, sum by (le) (edge_case_seconds_bucket{{case="{case}"}}))'
    result = prom.query(expr)
    theirs = float(result[0]["value"][1]) if result else math.nan
    bucket = quantile_bucket(q, edge_buckets(case))
    if math.isnan(theirs):
        assert bucket is None, (case, q)
    else:
        assert bucket is not None and bucket[0] <= theirs <= bucket[1], (case, q, theirs, bucket)
