"""`meshtui mesh` against the demo's real Prometheus: every number it prints is Prometheus's
own answer to the same PromQL (prometheus/queries.py) asked over its HTTP API at the same
instant, and its rates agree with the real Envoys' counter deltas over the window."""

from __future__ import annotations

import json
import math
import re
import time

import httpx

from helpers.cli import meshtui
from helpers.wait import wait_for
from meshtui.prometheus.queries import EDGE, SERVICE, latency, queries

CATALOG = "catalog.istioinaction.svc.cluster.local"
WEBAPP = "webapp.istioinaction.svc.cluster.local"


def mesh_rows(mesh, *extra: str) -> list[dict]:
    r = meshtui("mesh", "--json", "--kubeconfig", str(mesh.kubeconfig), *extra, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ask(mesh, expr: str, at: float) -> list[dict]:
    r = httpx.get(
        mesh.info["prometheus"] + "/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}, timeout=10
    )
    doc = r.json()
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def envoy_counter(admin: str, name: str) -> int:
    body = httpx.get(f"{admin}/stats", params={"filter": f"^{re.escape(name)}$"}, timeout=5).text
    return int(re.search(rf"^{re.escape(name)}: (\d+)$", body, flags=re.M).group(1))


def test_every_number_is_prometheus_answer_to_the_same_query(mesh):
    def present() -> set[tuple[str, str]]:
        return {(r["source"], r["destination"]) for r in mesh_rows(mesh) if r["rps"]}

    want = {("istio-ingressgateway", WEBAPP), ("webapp", CATALOG), ("", WEBAPP), ("", CATALOG)}
    wait_for(lambda: want <= present(), 60, "both services and both edges in Prometheus")
    at = time.time()  # both asked at this instant (a series born since is in neither)
    rows = mesh_rows(mesh, "--time", f"{at:.3f}")
    by_key = {(r["source"], r["source_namespace"], r["destination"]): r for r in rows}
    assert {k[2] for k in by_key if not k[0]} >= {CATALOG, WEBAPP}
    compared = 0
    for q in queries("1m"):
        for sample in ask(mesh, q.expr, at):
            labels = sample["metric"]
            if q.by == SERVICE:
                key = ("", "", labels["destination_service"])
            else:
                assert q.by == EDGE
                key = (
                    labels["source_workload"],
                    labels["source_workload_namespace"],
                    labels["destination_service"],
                )
            want = float(sample["value"][1])
            got = by_key[key][q.figure]
            if math.isnan(want):
                assert got is None, (q.expr, key)
            else:
                assert got == round(want, 6), (q.expr, key, got, want)
            compared += 1
    assert compared >= 4 * 6  # two services and two edges, six figures each
    # the place asks an edge's latency for the rows on screen, with a selector on its labels
    # (names with dots: the RE2 escaping is Prometheus's to judge): the same numbers
    edge = ("webapp", "istioinaction", CATALOG)
    for q in latency("1m", [edge]):
        answered = {
            (
                s["metric"]["source_workload"],
                s["metric"]["source_workload_namespace"],
                s["metric"]["destination_service"],
            )
            for s in ask(mesh, q.expr, at)
        }
        assert answered == {edge}, q.expr
        (sample,) = ask(mesh, q.expr, at)
        value = float(sample["value"][1])
        assert by_key[edge][q.figure] == (None if math.isnan(value) else round(value, 6)), q.expr


def test_rates_agree_with_the_envoys_counters_over_the_window(mesh):
    """catalog's own requests/s over 1m (reporter=destination) against its Envoy's inbound
    `downstream_rq_completed` over the same minute, and webapp -> catalog (reporter=source)
    against webapp's outbound one."""
    catalog, webapp = mesh.info["admin"]["catalog"], mesh.info["admin"]["webapp"]
    # a series younger than the window is extrapolated from its first sample (Prometheus's
    # rate): compare over a minute the series covers whole
    series = f'istio_requests_total{{reporter="destination",destination_service="{CATALOG}"}}'
    old_enough = f"count_over_time({series}[75s])"
    wait_for(
        lambda: any(float(s["value"][1]) >= 15 for s in ask(mesh, old_enough, time.time())),
        100,
        "catalog's series older than the window",
    )
    inbound, outbound = (
        "http.inbound_0.0.0.0_3000.downstream_rq_completed",
        "http.outbound_0.0.0.0_80.downstream_rq_completed",
    )
    start = (time.time(), envoy_counter(catalog, inbound), envoy_counter(webapp, outbound))
    wait_for(lambda: time.time() >= start[0] + 60, 70, "a minute of load")
    end = (time.time(), envoy_counter(catalog, inbound), envoy_counter(webapp, outbound))
    span = end[0] - start[0]
    # Envoy flushes its access log each second and Prometheus scrapes each 5 s: asked a
    # little later, the window [end-60s, end] is in the TSDB whole
    wait_for(lambda: time.time() >= end[0] + 7, 10, "the last scrape of the window")
    rows = mesh_rows(mesh, "--time", f"{end[0]:.3f}")
    service = next(r for r in rows if not r["source"] and r["destination"] == CATALOG)
    edge = next(r for r in rows if r["source"] == "webapp" and r["destination"] == CATALOG)
    envoy_service = (end[1] - start[1]) / span
    envoy_edge = (end[2] - start[2]) / span
    assert envoy_service > 1 and envoy_edge > 1  # the demo's load runs
    assert abs(service["rps"] - envoy_service) <= 0.05 * envoy_service, (service["rps"], envoy_service)
    assert abs(edge["rps"] - envoy_edge) <= 0.05 * envoy_edge, (edge["rps"], envoy_edge)


def test_a_bad_prometheus_is_one_line_and_exit_2(mesh):
    r = meshtui("mesh", "--prometheus", "http://127.0.0.1:1")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot connect to Prometheus" in r.stderr
    r = meshtui("mesh", "--prometheus", "not a url")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = meshtui("mesh", "--kubeconfig", str(mesh.kubeconfig), "--prometheus-service", "istio-system/nope")
    assert r.returncode == 2 and "no Prometheus: looked for service istio-system/nope:9090" in r.stderr
    assert "samples/addons/prometheus.yaml" in r.stderr
