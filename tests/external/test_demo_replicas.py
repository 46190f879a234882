"""The demo as the replicas view needs it, driven by real kubectl: `kubectl scale` keeps the
pod-template hash (the ReplicaSet's pods are named alike), and `kubectl annotate pod ...
demo.meshtui/fault=abort=100` makes that one replica fail while the others do not, as its
own sidecar counts."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from helpers.cli import meshtui
from helpers.kubectl import kubectl, needs_kubectl
from helpers.wait import wait_for
from meshtui.demo.run import MeshProcess, start_mesh

pytestmark = needs_kubectl
NS = "istioinaction"
INBOUND_5XX = "http.inbound_0.0.0.0_3000.downstream_rq_5xx"
INBOUND_DONE = "http.inbound_0.0.0.0_3000.downstream_rq_completed"


@pytest.fixture()
def own_mesh() -> Iterator[MeshProcess]:
    """A mesh of its own: this module scales catalog."""
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
