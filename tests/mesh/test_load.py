"""`meshtui load` against the demo's gateway, checked against the gateway Envoy's own counters
and its request-time histogram over the run (the demo's own load loop paused meanwhile)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from helpers.cli import meshtui
from helpers.mesh import pod_name, sim
from helpers.wait import wait_for

HOST = "webapp.istioinaction.io"
PREFIX = "http.outbound_0.0.0.0_8080."  # the gateway's connection manager (demo/xds/generate.py)
WEBAPP = "cluster.outbound|80||webapp.istioinaction.svc.cluster.local."


def gateway_stats(admin: str) -> tuple[dict[str, int], dict[float, int]]:
    """The gateway's counters, and its downstream_rq_time histogram as cumulative bucket counts."""
    r = httpx.get(f"{admin}/stats", params={"format": "json", "histogram_buckets": "cumulative"}, timeout=10)
    r.raise_for_status()
    counters: dict[str, int] = {}
    buckets: dict[float, int] = {}
    for entry in r.json()["stats"]:
        if "name" in entry and isinstance(entry.get("value"), int):
            counters[entry["name"]] = entry["value"]
        for h in (entry.get("histograms") or []) if isinstance(entry.get("histograms"), list) else []:
            if h.get("name") == PREFIX + "downstream_rq_time":
                buckets = {float(b["upper_bound"]): int(b["cumulative"]) for b in h["buckets"]}
    return counters, buckets


def gateway_port(admin: str) -> int:
    r = httpx.get(f"{admin}/listeners", params={"format": "json"}, timeout=10)
    for status in r.json()["listener_statuses"]:
        if status["name"] == "0.0.0.0_8080":
            return int(status["local_address"]["socket_address"]["port_value"])
    raise AssertionError("no 0.0.0.0_8080 listener on the gateway")


@pytest.fixture
def quiet_gateway(mesh) -> Iterator[str]:
    """The gateway's admin URL, with the demo's own load loop paused and drained."""
    admin = mesh.info["admin"]["istio-ingressgateway"]
    sim(mesh, "/_sim/load/pause")
    try:

        def settled() -> bool:
            a = gateway_stats(admin)[0].get(PREFIX + "downstream_rq_completed", 0)
            b = gateway_stats(admin)[0].get(PREFIX + "downstream_rq_active", 0)
            return b == 0 and a == gateway_stats(admin)[0].get(PREFIX + "downstream_rq_completed", 0)

        wait_for(settled, 10, "the demo's own requests drained")
        yield admin
    finally:
        sim(mesh, "/_sim/load/resume")


def deltas(before: dict[str, int], after: dict[str, int], names: list[str]) -> dict[str, int]:
    return {n: after.get(n, 0) - before.get(n, 0) for n in names}


def test_load_through_the_gateway_service_matches_the_gateways_counters(mesh, quiet_gateway):
    before, _ = gateway_stats(quiet_gateway)
    r = meshtui(
        "load",
        "/api/catalog",
        "--to",
        "svc/istio-system/istio-ingressgateway:80",
        "--host",
        HOST,
        "--rate",
        "50",
        "--duration",
        "6",
        "--json",
        "--kubeconfig",
        mesh.kubeconfig,
        timeout=90,
    )
    assert r.returncode == 0, r.stderr
    assert (
        "svc/istio-system/istio-ingressgateway:80 -> istio-ingressgateway-" in r.stderr
    )  # resolved as kubectl does
    got = json.loads(r.stdout)
    assert abs(got["sent"] - 300) <= 6 and got["completed"] == got["sent"], got
    after, _ = gateway_stats(quiet_gateway)
    classes = deltas(before, after, [PREFIX + f"downstream_rq_{c}xx" for c in range(1, 6)])
    assert {k.rsplit("_", 1)[1]: v for k, v in classes.items() if v} == got["classes"]
    codes = {
        name.rsplit("_", 1)[1]: n
        for name, n in deltas(
            before, after, [k for k in after if k.startswith(WEBAPP + "upstream_rq_")]
        ).items()
        if n and name.rsplit("_", 1)[1].isdigit()
    }
    assert codes == got["codes"], (codes, got["codes"])
    assert set(got["latency_ms"]) == {"p50", "p90", "p99", "max"} and got["latency_ms"]["p50"] > 0


# what a client sees over what the gateway counts: its downstream_rq_time runs from the
# first byte in to the last byte out, meshtui's latency from when a request was due to its
# answer read: the loopback hop both ways, the timer (epoll wakes up to 1 ms late) and the
# client's own work; 1.5-2.6 ms at 40 requests/s on the 2-core CI machine
CLIENT_SLACK_MS = 3.0


def test_percentiles_fall_in_the_gateways_own_histogram_buckets(mesh, quiet_gateway):
    """Straight at the gateway's listener (no port-forward between): meshtui's P50 and P99
    lie in the bucket of Envoy's downstream_rq_time that holds Envoy's own P50 and P99, or
    above it by no more than the client's side of a request (CLIENT_SLACK_MS)."""
    _, before = gateway_stats(quiet_gateway)
    url = f"http://127.0.0.1:{gateway_port(quiet_gateway)}/api/catalog"
    r = meshtui(
        "load", url, "--host", HOST, "--rate", "40", "--duration", "5", "--json", "--quiet", timeout=60
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    wait_for(
        lambda: sum(gateway_stats(quiet_gateway)[1].values()) > sum(before.values()),
        15,
        "Envoy's histogram flushed",
    )

    def run_buckets() -> list[tuple[float, int]]:
        _, after = gateway_stats(quiet_gateway)
        return sorted((bound, after[bound] - before.get(bound, 0)) for bound in after)

    # Envoy merges histograms into the admin view at each stats flush (5 s): wait for all of the run
    wait_for(lambda: run_buckets()[-1][1] >= got["completed"], 20, "the run in Envoy's histogram")
    cumulative = run_buckets()
    total = cumulative[-1][1]
    lower = 0.0
    for q in ("p50", "p99"):
        want = total * int(q[1:]) / 100
        prev = 0.0
        for bound, count in cumulative:
            if count >= want:
                lower, upper = prev, bound
                break
            prev = bound
        # a request sent late (the client's loop busy: a GC, a busy machine) counts its
        # lateness as latency, by design (coordinated omission): the run says how late
        late = got["scheduling_lag_p99_ms"] if q == "p99" else 0.0
        assert lower <= got["latency_ms"][q] <= upper + CLIENT_SLACK_MS + late, (
            q,
            got["latency_ms"][q],
            lower,
            upper,
            late,
        )


def annotate_catalog(mesh, fault: str | None) -> None:
    """`kubectl annotate pod catalog-... demo.meshtui/fault=...` (None: remove it), as the
    official client sends it (a merge patch of the pod's annotations)."""
    from kubernetes import client, config

    core = client.CoreV1Api(config.new_client_from_config(str(mesh.kubeconfig)))
    body = {"metadata": {"annotations": {"demo.meshtui/fault": fault}}}
    core.patch_namespaced_pod(pod_name(mesh, "catalog"), "istioinaction", body)


def test_with_a_failing_catalog_the_5xx_share_is_the_gateways(mesh, quiet_gateway):
    """The demo's catalog fault (abort=40): meshtui's 5xx count and share over the run equal
    the gateway Envoy's downstream_rq_5xx and downstream_rq_completed deltas."""
    annotate_catalog(mesh, "abort=40")
    try:
        before, _ = gateway_stats(quiet_gateway)
        r = meshtui(
            "load", "/api/catalog", "--to", "svc/istio-system/istio-ingressgateway:80", "--host", HOST,
            "--rate", "40", "--duration", "5", "--json", "--quiet", "--kubeconfig", mesh.kubeconfig,
            timeout=90,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        after, _ = gateway_stats(quiet_gateway)
    finally:
        annotate_catalog(mesh, None)
    failed = after[PREFIX + "downstream_rq_5xx"] - before.get(PREFIX + "downstream_rq_5xx", 0)
    done = after[PREFIX + "downstream_rq_completed"] - before.get(PREFIX + "downstream_rq_completed", 0)
    assert got["completed"] == done and got["classes"].get("5xx", 0) == failed, (got, failed, done)
    share = got["classes"]["5xx"] / got["completed"]
    assert share == failed / done
    assert 0.25 < share < 0.65, share  # the fault acted: 40% aborted, and the app's own 1 in 10
