"""The demo as the replicas view needs it, driven by real kubectl: `kubectl scale` keeps the
pod-template hash (the ReplicaSet's pods are named alike), and `kubectl annotate pod ...
demo.meshtui/fault=abort=100` makes that one replica fail while the others do not, as its
own sidecar counts. Then what meshtui makes of it: `meshtui stats deploy/catalog` gives
each pod's own figures read at one moment, and the Replicas place marks the failing one."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from helpers.cli import meshtui
from helpers.kubectl import kubectl, needs_kubectl
from helpers.wait import until, wait_for
from meshtui.demo.run import MeshProcess, start_mesh
from meshtui.ui.app import MeshtuiApp, Options

pytestmark = needs_kubectl
NS = "istioinaction"
INBOUND_5XX = "http.inbound_0.0.0.0_3000.downstream_rq_5xx"
INBOUND_DONE = "http.inbound_0.0.0.0_3000.downstream_rq_completed"


@pytest.fixture(scope="module")
def own_mesh() -> Iterator[MeshProcess]:
    """A mesh of its own: this module scales catalog (the tests run in order, on it)."""
    with start_mesh(rate=20.0) as m:
        yield m


def catalog_pods(mesh: MeshProcess) -> list[str]:
    r = kubectl(mesh, "get", "pods", "-n", NS, "-l", "app=catalog", "-o", "json")
    assert r.returncode == 0, r.stderr
    items = json.loads(r.stdout)["items"]
    return sorted(p["metadata"]["name"] for p in items if p["status"].get("phase") == "Running")


def answers(mesh: MeshProcess, pod: str) -> tuple[int, int]:
    """(5xx, completed) of the pod's inbound, from one read of its sidecar's stats, as a user
    reads them: `meshtui stats POD -n NS`."""
    r = meshtui(
        "stats", pod, "-n", NS, "--prefix", "http.inbound_0.0.0.0_3000.downstream_rq_", "--json",
        "--kubeconfig", str(mesh.kubeconfig),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    values = {s["name"]: int(s["value"]) for s in json.loads(r.stdout) if s["kind"] in ("counter", "unknown")}
    return values.get(INBOUND_5XX, 0), values.get(INBOUND_DONE, 0)


def test_scale_keeps_the_template_hash_and_one_replica_fails_by_annotation(own_mesh):
    (first,) = catalog_pods(own_mesh)
    template_hash = first.rsplit("-", 2)[1]
    r = kubectl(own_mesh, "scale", "deployment/catalog", "-n", NS, "--replicas=3")
    assert r.returncode == 0, r.stderr
    wait_for(lambda: len(catalog_pods(own_mesh)) == 3, 60, "three catalog replicas")
    pods = catalog_pods(own_mesh)
    assert first in pods and all(p.rsplit("-", 2)[1] == template_hash for p in pods), pods

    bad = next(p for p in pods if p != first)
    r = kubectl(own_mesh, "annotate", "pod", bad, "-n", NS, "demo.meshtui/fault=abort=100")
    assert r.returncode == 0, r.stderr
    got = kubectl(own_mesh, "get", "pod", bad, "-n", NS, "-o", "jsonpath={.metadata.annotations}")
    assert "demo.meshtui/fault" in got.stdout

    before = {p: answers(own_mesh, p) for p in pods}

    def since(pod: str) -> tuple[int, int]:
        failed, done = answers(own_mesh, pod)
        return failed - before[pod][0], done - before[pod][1]

    # the demo's own load reaches every replica through webapp's sidecar (EDS, round robin)
    wait_for(lambda: all(since(p)[1] >= 20 for p in pods), 60, "each replica answered")
    for pod in pods:
        failed, done = since(pod)
        if pod == bad:  # abort=100: every answer a 500 (but one in flight when it was read)
            assert failed >= done - 1, (pod, failed, done)
        else:  # the app's own 1 in 10
            assert failed <= done * 0.3, (pod, failed, done)

    r = kubectl(own_mesh, "annotate", "pod", bad, "-n", NS, "demo.meshtui/fault-")
    assert r.returncode == 0, r.stderr
    assert (
        "demo.meshtui/fault"
        not in kubectl(own_mesh, "get", "pod", bad, "-n", NS, "-o", "jsonpath={.metadata.annotations}").stdout
    )


PREFIX = "http.inbound_0.0.0.0_3000.downstream_rq_"


def own_stats(mesh: MeshProcess, pod: str) -> dict[str, tuple[str, int]]:
    """A pod's own /stats under PREFIX, read on its own: name -> (kind, value)."""
    r = meshtui(
        "stats", pod, "-n", NS, "--prefix", PREFIX, "--json", "--kubeconfig", str(mesh.kubeconfig)
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return {s["name"]: (s["kind"], int(s["value"])) for s in json.loads(r.stdout) if s["kind"] != "histogram"}


def test_stats_of_a_deployment_are_each_pods_own_read_at_one_moment(own_mesh):
    pods = catalog_pods(own_mesh)
    assert len(pods) == 3, pods
    before = {p: own_stats(own_mesh, p) for p in pods}
    r = meshtui(
        "stats", "deploy/catalog", "-n", NS, "--filter", PREFIX, "--json",
        "--kubeconfig", str(own_mesh.kubeconfig),
    )  # fmt: skip
    after = {p: own_stats(own_mesh, p) for p in pods}
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert sorted(doc["pods"]) == pods
    checked = 0
    for pod in pods:
        got = doc["pods"][pod]
        assert set(got) == set(before[pod]), (pod, set(got) ^ set(before[pod]))
        for name, (kind, was) in before[pod].items():
            if kind == "counter":  # the load runs on: read between the pod's two own reads
                assert was <= got[name] <= after[pod][name][1], (pod, name, was, got[name], after[pod][name])
                checked += 1
    assert checked >= 3 * 10
    assert doc["pods"][pods[0]][PREFIX + "completed"] > 0  # the demo's load reached it
    for name, total in doc["total"].items():
        assert total == sum(doc["pods"][p][name] for p in pods), name
    # the same replicas by label selector, and the errors a script meets
    r = meshtui("stats", "-l", "app=catalog", "-n", NS, "--filter", PREFIX, "--json",
                "--kubeconfig", str(own_mesh.kubeconfig))  # fmt: skip
    assert r.returncode == 0 and sorted(json.loads(r.stdout)["pods"]) == pods, r.stderr
    r = meshtui("stats", "deploy/nope", "-n", NS, "--kubeconfig", str(own_mesh.kubeconfig))
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "not found" in r.stderr, r.stderr


async def test_the_replicas_place_marks_the_failing_replica(own_mesh):
    pods = catalog_pods(own_mesh)
    bad = pods[-1]
    r = kubectl(own_mesh, "annotate", "pod", bad, "-n", NS, "demo.meshtui/fault=abort=100", "--overwrite")
    assert r.returncode == 0, r.stderr
    app = MeshtuiApp(Options(kubeconfig=own_mesh.kubeconfig, stats_filter=PREFIX))
    async with app.run_test(size=(160, 48)) as pilot:
        key = f"{NS}/{pods[0]}"
        await until(lambda: key in app.pods._shown, 15, "catalog in the pods table")
        app.pods.table.focus()
        app.pods.table.move_to_key(key)
        await pilot.press("R")  # a pod's workload's replicas
        await until(lambda: app.place == "replicas", 5, "the Replicas place")
        pane = app.place_widget("replicas")
        table = pane.table
        await until(lambda: table.update is not None and len(table.pods) == 3, 20, "three replicas")
        assert pane.workload.shown == "deploy/catalog"
        await until(lambda: table.update.outlier == bad, 30, f"{bad} marked")
        u = table.update
        assert bad in u.outlier_why and "5xx" in u.outlier_why
        failing = next(r for r in u.replicas if r.pod == bad)
        others = [r for r in u.replicas if r.pod != bad]
        assert failing.error_pct is not None and failing.error_pct > 90
        assert all(o.error_pct is None or o.error_pct < 40 for o in others)
        header = table.header_text(200)
        assert f"✗ {table.short[bad]}" in header
        # the filter came from the Stats tab's; the rows are that prefix's
        assert u.names and all(n.startswith(PREFIX) for n in u.names)
        # the same replicas' clusters: `c`, a cluster filter, `v` to the healthy endpoints
        await pilot.press("c")
        pane.query_one("#replicas-filter").value = "outbound|"
        webapp = "outbound|80||webapp.istioinaction.svc.cluster.local"
        await until(
            lambda: table.update.clusters and webapp in table.update.names, 20, "the clusters compared"
        )
        assert all(n.startswith("outbound|") for n in table.update.names)
        await pilot.press("v", "v")
        assert table.header_text(200).startswith("CLUSTER (healthy/all endpoints)")
        assert table.cells(webapp)[1:4] == ["1/1", "1/1", "1/1"]  # each replica sees webapp's one pod
        # R on a pod with no sidecar (Jaeger's) says so; the workload on screen stays
        await pilot.press("1")
        jaeger = next(k for k in app.pods._shown if "/jaeger-" in k)
        app.pods.table.focus()
        app.pods.table.move_to_key(jaeger)
        await pilot.press("R")
        await until(lambda: app.place == "replicas", 5, "back in Replicas")
        state = pane.query_one("#replicas-state")
        await until(lambda: "no istio-proxy sidecar" in state.text, 5, "why not")
        assert pane.workload.shown == "deploy/catalog"
        # a pod scaled away leaves the view, live
        r = kubectl(own_mesh, "scale", "deployment/catalog", "-n", NS, "--replicas=2")
        assert r.returncode == 0, r.stderr
        await until(lambda: len(table.pods) == 2, 20, "two replicas after the scale")
    kubectl(own_mesh, "annotate", "pod", bad, "-n", NS, "demo.meshtui/fault-")
