"""The Mesh place's arithmetic and PromQL: shares worked out as Prometheus evaluates them,
rows joined from a refresh's answers (latency asked for some edges only), trends, the
selector that restricts the latency queries, and Prometheus's error answers."""

from __future__ import annotations

import math
import re

import httpx
import pytest

from meshtui.prometheus.client import PrometheusError, vector
from meshtui.prometheus.feed import TREND_POINTS, rows_of, share
from meshtui.prometheus.queries import EDGE, LATENCY, SERVICE, Query, _re2_literal, latency, refresh

WEBAPP = ("webapp", "istioinaction", "catalog.istioinaction.svc.cluster.local")
GATEWAY = ("istio-ingressgateway", "istio-system", "webapp.istioinaction.svc.cluster.local")


def test_share_is_prometheus_arithmetic():
    # `100 * (part or 0 * whole) / whole`, float64 left to right: the same bits
    assert share(2.5, 10.0) == 25.0
    assert share(1.0, 3.0) == 100 * 1.0 / 3.0
    assert share(None, 7.0) == 0.0  # no 5xx series: the `or 0 * whole` side
    assert share(None, 0.0) is None  # 0 / 0 is NaN: no requests in the window
    assert share(0.0, 0.0) is None
    assert share(None, None) is None  # no requests series at all


def answer(by: tuple[str, ...], figure: str, rows: dict[tuple[str, ...], float]) -> tuple[Query, list]:
    pairs = []
    for key, value in rows.items():
        labels = dict(zip(by, key[-len(by) :] if by == SERVICE else key, strict=True))
        pairs.append((labels, value))
    return Query(figure, by, "expr"), pairs


def test_rows_join_shares_and_latency_only_where_asked():
    catalog = ("catalog.istioinaction.svc.cluster.local",)
    answers = [
        answer(SERVICE, "rps", {catalog: 8.0}),
        answer(SERVICE, "5xx_rps", {catalog: 2.0}),
        answer(SERVICE, "p99_ms", {catalog: 120.0}),
        answer(EDGE, "rps", {WEBAPP: 8.0, GATEWAY: 4.0}),
        answer(EDGE, "4xx_rps", {GATEWAY: 1.0}),
        answer(EDGE, "p50_ms", {WEBAPP: math.nan}),  # asked, no requests in the window
    ]
    services, edges = rows_of(answers, latency_for={WEBAPP})
    (svc,) = services
    assert svc.figures == {
        "rps": 8.0,
        "error_pct": 25.0,
        "client_error_pct": 0.0,
        "p50_ms": None,
        "p90_ms": None,
        "p99_ms": 120.0,
    }
    by_edge = {e.edge: e for e in edges}
    webapp, gateway = by_edge[WEBAPP], by_edge[GATEWAY]
    assert all(webapp.asked(f) and webapp.get(f) is None for f in LATENCY)  # asked: "-"
    assert not any(gateway.asked(f) for f in LATENCY)  # off screen: "·", not "-"
    assert gateway.get("client_error_pct") == 25.0 and gateway.get("error_pct") == 0.0
    assert webapp.key == "webapp.istioinaction>catalog.istioinaction.svc.cluster.local"
    # None: every edge's latency was asked
    _, edges = rows_of(answers, latency_for=None)
    assert all(e.asked("p50_ms") for e in edges)


def test_trends_grow_per_refresh_and_keep_the_widest_sparkline():
    trends: dict[str, tuple[float, ...]] = {}
    for i in range(TREND_POINTS + 5):
        services, _ = rows_of([answer(SERVICE, "rps", {("a.b.svc.cluster.local",): float(i)})], trends)
    assert services[0].trend == tuple(float(i) for i in range(5, TREND_POINTS + 5))
    _, _ = rows_of([answer(SERVICE, "5xx_rps", {("a.b.svc.cluster.local",): 1.0})], trends)
    assert math.isnan(trends["a.b.svc.cluster.local"][-1])  # no rate this refresh: a gap


def unquote(promql_string: str) -> str:
    """A PromQL double-quoted string's value (the escapes _re2_literal writes)."""
    return re.sub(r"\\(.)", r"\1", promql_string)


@pytest.mark.parametrize(
    "value", ["catalog.istioinaction.svc.cluster.local", "a|b", 'q"t', "x\\y", "(p)+[q]{2}^$"]
)
def test_restricted_selector_matches_exactly_the_names(value):
    regex = unquote(_re2_literal(value))
    assert re.fullmatch(regex, value)
    assert not re.fullmatch(regex, value + "x")
    if "." in value:
        assert not re.fullmatch(regex, value.replace(".", "X"))  # a dot is a dot


def test_refresh_asks_error_rates_and_latency_for_the_edges_on_screen():
    full = {q.figure: q for q in refresh("5m") if q.by == EDGE}
    assert set(full) == {"rps", "5xx_rps", "4xx_rps", *LATENCY}
    assert 'response_code=~"5.."' in full["5xx_rps"].expr and "[5m]" in full["5xx_rps"].expr
    assert "source_workload=~" not in full["p50_ms"].expr
    assert not [q for q in refresh("1m", set()) if q.by == EDGE and q.figure in LATENCY]
    (p50, _, _) = latency("1m", {WEBAPP, GATEWAY})
    assert 'source_workload=~"istio-ingressgateway|webapp"' in p50.expr
    assert 'destination_service=~"catalog\\\\.istioinaction' in p50.expr


def response(status: int, body: bytes) -> httpx.Response:
    return httpx.Response(
        status, content=body, request=httpx.Request("GET", "http://127.0.0.1:9/api/v1/query")
    )


@pytest.mark.parametrize(
    ("status", "body", "says"),
    [
        (
            400,
            b'{"status":"error","errorType":"bad_data","error":"parse error at char 5"}',
            "bad_data: parse error",
        ),
        (503, b"Service Unavailable", "503 with no JSON: Service Unavailable"),
        (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}', "a matrix, not a vector"),
        (200, b'{"status":"success","data":[]}', "answered list data, not a vector"),
    ],
)
def test_prometheus_errors_are_one_line(status, body, says):
    with pytest.raises(PrometheusError, match=re.escape(says)) as err:
        list(vector(response(status, body), "http://127.0.0.1:9", "up"))
    assert "\n" not in str(err.value)


def test_vector_reads_labels_and_go_floats():
    body = (
        b'{"status":"success","data":{"resultType":"vector","result":['
        b'{"metric":{"a":"1"},"value":[1,"2.5"]},{"metric":{},"value":[1,"NaN"]},'
        b'{"metric":{"b":"2"},"value":[1,"+Inf"]},"junk"]}}'
    )
    got = list(vector(response(200, body), "http://127.0.0.1:9", "up"))
    assert got[0] == ({"a": "1"}, 2.5)
    assert math.isnan(got[1][1]) and got[2] == ({"b": "2"}, math.inf)
    assert len(got) == 3
