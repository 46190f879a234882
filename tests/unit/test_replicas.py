"""The replicas view's arithmetic: typed /stats bodies, what a replica served, rates over
its window (restarted by an Envoy restart), the replica that stands out, per-row marks."""

from __future__ import annotations

import pytest

from meshtui.replicas.feed import OUTLIER_MIN_REQUESTS, Replica, _Window, deviant_cells, outlier_of
from meshtui.replicas.read import ReplicaRead, parse_typed, served_of, total_of
from meshtui.ui.replicas.table import short_names


def test_typed_bodies_keep_numbers_only():
    body = 'a.b: 3\nc|d||e.f: 12\nbad line\ng: -1\nh: "text"\n'
    assert parse_typed(body) == {"a.b": 3, "c|d||e.f": 12, "g": -1}


def test_served_from_envoys_inbound_or_istio_requests_total():
    envoy = {
        "http.inbound_0.0.0.0_3000.downstream_rq_completed": 40,
        "http.inbound_0.0.0.0_3000.downstream_rq_5xx": 4,
        "istiocustom.istio_requests_total.reporter.destination.response_code.500.x": 99,
    }
    assert served_of(envoy) == (40, 4)  # Envoy's own first
    istio = {
        "istiocustom.istio_requests_total.reporter.destination.source_workload.w.response_code.200.x": 30,
        "istiocustom.istio_requests_total.reporter.destination.source_workload.w.response_code.503.x": 3,
        "istiocustom.istio_requests_total.reporter.source.response_code.500.x": 50,  # not served here
    }
    assert served_of(istio) == (33, 3)
    assert served_of({"server.uptime": 3}) is None


def test_window_rates_and_restart():
    w = _Window()
    w.add(0.0, ReplicaRead("p", {"c": 10}, {"g": 5}, (100, 1)))
    w.add(2.0, ReplicaRead("p", {"c": 30}, {"g": 7}, (120, 11)))
    r = w.replica(ReplicaRead("p", {"c": 30}, {"g": 7}, (120, 11)))
    assert r.rates == {"c": 10.0} and r.values == {"c": 30, "g": 7}
    assert r.served_rps == 10.0 and r.error_pct == 50.0 and r.served_n == 20 and r.window_s == 2.0
    w.add(3.0, ReplicaRead("p", {"c": 1}, {"g": 7}, (2, 0)))  # a new Envoy: counters went down
    again = w.replica(ReplicaRead("p", {"c": 1}, {"g": 7}, (2, 0)))
    assert again.rates == {} and again.served_rps is None
    w.new_filter()  # other names: no rate across, the served window stays
    w.add(4.0, ReplicaRead("p", {"d": 5}, {}, (12, 0)))
    after = w.replica(ReplicaRead("p", {"d": 5}, {}, (12, 0)))
    assert after.rates == {} and after.served_rps == 10.0


def _replica(pod: str, pct: float | None, n: int = 50, **rates: float) -> Replica:
    return Replica(pod, {}, rates, 5.0, pct, n, round(n * (pct or 0) / 100), 30.0)


@pytest.mark.parametrize(
    ("pcts", "marked"),
    [
        ((10.0, 9.0, 55.0), "c"),  # over twice the others' median
        ((10.0, 9.0, 15.0), None),  # under twice
        ((0.0, 0.0, 0.5), None),  # under the 1% floor
        ((0.0, 0.0, 3.0), None),  # 2 errors of 50: fewer than OUTLIER_MIN_ERRORS
        ((0.0, 0.0, 12.0), "c"),  # 6 of 50 where the others had none of 100
        ((None, 0.0, 80.0), "c"),  # one that served nothing has no say
        ((80.0,), None),  # no others to compare with
    ],
)
def test_outlier_rule(pcts, marked):
    replicas = [_replica(pod, pct) for pod, pct in zip("abc", pcts, strict=False)]
    assert outlier_of(replicas)[0] == marked


def test_the_demos_one_in_ten_marks_no_replica():
    """Every replica fails 1 request in 10; one happens to have 3 of 13 in its window."""
    replicas = [
        _replica("a", 10.0, n=30),
        _replica("b", 6.7, n=30),
        Replica("c", {}, {}, 0.4, 23.1, 13, 3, 30.0),
    ]
    assert outlier_of(replicas) == (None, "")
    bad = Replica("c", {}, {}, 1.0, 60.0, 30, 18, 30.0)  # abort=60 on top of that
    assert outlier_of([*replicas[:2], bad])[0] == "c"


def test_binomial_tail():
    from meshtui.replicas.feed import binomial_tail

    assert binomial_tail(0, 10, 0.1) == 1.0
    assert abs(binomial_tail(1, 10, 0.1) - (1 - 0.9**10)) < 1e-12
    assert abs(binomial_tail(10, 10, 0.5) - 0.5**10) < 1e-15
    assert binomial_tail(18, 30, 0.08) < 1e-8


def test_too_few_requests_mark_nothing():
    few = [_replica("a", 0.0), _replica("b", 0.0), _replica("c", 50.0, n=OUTLIER_MIN_REQUESTS - 1)]
    assert outlier_of(few) == (None, "")


def test_deviant_cells_and_totals():
    a, b, c = _replica("a", 0, x=1.0, y=1.0), _replica("b", 0, x=1.1, y=1.0), _replica("c", 0, x=5.0, y=1.02)
    assert deviant_cells(["x", "y"], [a, b, c], frozenset({"x", "y"})) == {"x": "c"}
    reads = [
        ReplicaRead("a", {"c": 1}, {"g": 2, "rds.x.version": 123}),
        ReplicaRead("b", {"c": 3}, {"g": 4, "rds.x.version": 456}),
    ]
    assert total_of(reads) == {"c": 4, "g": 6}  # a version hash has no total


def test_short_names_drop_the_shared_words():
    pods = ["catalog-6cf4b97d-00bfb", "catalog-6cf4b97d-5kkz8", "catalog-7aa-x1"]
    assert short_names(pods) == {
        "catalog-6cf4b97d-00bfb": "6cf4b97d-00bfb",
        "catalog-6cf4b97d-5kkz8": "6cf4b97d-5kkz8",
        "catalog-7aa-x1": "7aa-x1",
    }
    assert short_names(["only-one"]) == {"only-one": "only-one"}


def test_cluster_figures_sum_each_clusters_endpoints():
    import json

    from meshtui.envoy.filter import StatFilter
    from meshtui.replicas.read import ERR, HEALTHY, HOSTS, RQ, cluster_figures

    def host(port: int, health: str, rq: int, err: int, ejected: bool = False) -> dict:
        return {
            "address": {"socket_address": {"address": "10.0.0.1", "port_value": port}},
            "health_status": {"eds_health_status": health, "failed_outlier_check": ejected},
            "stats": [{"name": "rq_total", "value": str(rq)}, {"name": "rq_error", "value": str(err)}],
        }

    catalog = "outbound|80||catalog.istioinaction.svc.cluster.local"
    body = json.dumps(
        {
            "cluster_statuses": [
                {
                    "name": catalog,
                    "host_statuses": [
                        host(1, "HEALTHY", 10, 1),
                        host(2, "HEALTHY", 5, 5, ejected=True),
                        host(3, "UNHEALTHY", 0, 0),
                    ],
                },
                {"name": "xds-grpc", "host_statuses": [host(4, "HEALTHY", 3, 0)]},
            ]
        }
    )
    counters, gauges = cluster_figures(body, StatFilter("outbound|"))
    assert counters == {catalog + RQ: 15, catalog + ERR: 6}
    assert gauges == {catalog + HEALTHY: 1, catalog + HOSTS: 3}  # the ejected one is not healthy
    assert set(cluster_figures(body, StatFilter(""))[0]) == {
        catalog + RQ,
        catalog + ERR,
        "xds-grpc" + RQ,
        "xds-grpc" + ERR,
    }
