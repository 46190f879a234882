"""The demo's Istio standard metrics and its real Prometheus.

Each pod's :15020/stats/prometheus (read through the API server's port-forward) counts what
its real Envoy counted: with the demo's load paused and drained, the requests the
destination reports equal the inbound connection manager's `downstream_rq_completed`, the
source's the outbound one's, and their 5xx its `downstream_rq_5xx`. The label names are
the seed capture's. Debian's Prometheus, behind the `prometheus` Service, scrapes every pod.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from kubernetes import client, config

from helpers.mesh import FIXTURES, pod_name, sim
from helpers.pod_http import pod_get
from helpers.wait import wait_for

NS = "istioinaction"
SERIES = re.compile(r"^(\w+)\{(.*)\} (\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def series(text: str, metric: str) -> list[tuple[dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        found = SERIES.match(line)
        if found and found.group(1) == metric:
            out.append((dict(LABEL.findall(found.group(2))), float(found.group(3))))
    return out


def envoy_counter(admin: str, name: str) -> int:
    body = httpx.get(f"{admin}/stats", params={"filter": f"^{re.escape(name)}$"}, timeout=5).text
    found = re.search(rf"^{re.escape(name)}: (\d+)$", body, flags=re.M)
    return int(found.group(1)) if found else 0


@pytest.fixture
def paused(mesh) -> Iterator[client.CoreV1Api]:
    sim(mesh, "/_sim/load/pause")
    try:
        yield client.CoreV1Api(config.new_client_from_config(str(mesh.kubeconfig)))
    finally:
        sim(mesh, "/_sim/load/resume")


@pytest.mark.parametrize(
    ("workload", "namespace", "reporter", "prefix"),
    [
        ("catalog", NS, "destination", "http.inbound_0.0.0.0_3000."),
        ("webapp", NS, "destination", "http.inbound_0.0.0.0_8080."),
        ("webapp", NS, "source", "http.outbound_0.0.0.0_80."),
        ("istio-ingressgateway", "istio-system", "source", "http.outbound_0.0.0.0_8080."),
    ],
)
def test_standard_metrics_count_what_the_envoy_counted(mesh, paused, workload, namespace, reporter, prefix):
    pod = pod_name(mesh, workload, namespace)
    admin = mesh.info["admin"][workload]

    def both() -> tuple[tuple[int, int], tuple[int, int]]:
        text = pod_get(paused, namespace, pod, 15020, "/stats/prometheus")
        mine = [
            (labels, v)
            for labels, v in series(text, "istio_requests_total")
            if labels["reporter"] == reporter
        ]
        ours = (
            int(sum(v for _, v in mine)),
            int(sum(v for lb, v in mine if lb["response_code"].startswith("5"))),
        )
        envoy = (
            envoy_counter(admin, prefix + "downstream_rq_completed"),
            envoy_counter(admin, prefix + "downstream_rq_5xx"),
        )
        return ours, envoy

    # Envoy writes its access log each second: the two agree once it has
    ours, _ = wait_for(lambda: (b := both())[0] == b[1] and b, 15, f"{workload} {reporter} counts")
    assert ours[0] > 0, "the demo's load reached it"
    text = pod_get(paused, namespace, pod, 15020, "/stats/prometheus")
    labels, _ = series(text, "istio_requests_total")[0]
    seed = (FIXTURES / "seed" / "webapp-15020-metrics-partial.txt").read_text()
    seed_labels, _ = series(seed, "istio_response_bytes_count")[0]
    assert set(labels) == set(seed_labels)
    hist = [
        lb
        for lb, _ in series(text, "istio_request_duration_milliseconds_bucket")
        if lb["reporter"] == reporter
    ]
    assert {lb["le"] for lb in hist} >= {"0.5", "1", "5", "10", "25", "+Inf"}


def test_the_demos_prometheus_scrapes_every_pod(mesh):
    assert mesh.info["prometheus"], "Debian's prometheus is installed here (.ci/run installs it)"
    core = client.CoreV1Api(config.new_client_from_config(str(mesh.kubeconfig)))
    (prom,) = core.list_namespaced_pod("istio-system", label_selector="app=prometheus").items
    svc = core.read_namespaced_service("prometheus", "istio-system")
    assert svc.spec.ports[0].port == 9090 and svc.spec.selector["app"] == "prometheus"
    pods = {p.metadata.name for p in core.list_namespaced_pod(NS).items} | {
        pod_name(mesh, "istio-ingressgateway", "istio-system")
    }

    def up() -> set[str]:
        r = httpx.get(pod_api(mesh), params={"query": "up"}, timeout=5)
        return {s["metric"]["pod"] for s in r.json()["data"]["result"] if s["value"][1] == "1"}

    wait_for(lambda: pods <= up(), 30, "every pod scraped")
    assert prom.status.phase == "Running"


def pod_api(mesh) -> str:
    return mesh.info["prometheus"] + "/api/v1/query"
