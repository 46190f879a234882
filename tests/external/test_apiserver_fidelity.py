"""The simulated API server behaves as a real one where clients can tell: a request is
authenticated and authorized once, when it starts (an open watch outlives a credential
or RBAC change); 1.35's `create` check on upgrades covers exec, attach and portforward
only; /version and discovery answer as the kind cluster the demo stands in for."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess

import httpx
import pytest

from helpers.kube_cluster import NS, tls_cluster
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.pods import PodWatch


@pytest.fixture()
def cluster(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as c:
        yield c


@pytest.mark.parametrize("change", ["token revoked", "access denied"])
async def test_an_open_watch_outlives_an_auth_change_and_the_next_request_meets_it(cluster, change):
    cluster.run(cluster.api.rotate_token("token-a", "someone"))
    target = config.load(cluster.kubeconfig(user={"token": "token-a"}))
    events = PodWatch(target, NS).events()
    try:
        assert (await asyncio.wait_for(anext(events), 10)).kind == "SYNC"
        cluster.run(cluster.api.add_pod(SimPod("early-0", NS, "early", "10.244.1.2", [Container("a", "a")])))
        event = await asyncio.wait_for(anext(events), 10)
        assert (event.kind, event.pods[0].name) == ("ADDED", "early-0")  # the watch is open
        if change == "token revoked":
            cluster.run(cluster.api.rotate_token("token-b", "someone", revoke=("token-a",)))
        else:  # the steering endpoint, as the demo's tests and users drive it
            admin = config.load(cluster.kubeconfig(name="admin"))
            r = httpx.post(f"{admin.server}/_sim/auth/forbidden", verify=admin.ssl_context(), timeout=10)
            r.raise_for_status()
        cluster.run(cluster.api.add_pod(SimPod("late-0", NS, "late", "10.244.1.1", [Container("a", "a")])))
        event = await asyncio.wait_for(anext(events), 10)
        assert (event.kind, event.pods[0].name) == ("ADDED", "late-0")  # the watch goes on
        cluster.run(cluster.api.end_watches())  # its timeout: the next request meets the change
        event = await asyncio.wait_for(anext(events), 10)
        assert event.kind == "ERROR"
        assert ("(401)" if change == "token revoked" else "RBAC denied (403)") in event.message
    finally:
        cluster.api.auth_mode = "ok"
        await events.aclose()


@pytest.mark.parametrize(("sub", "denied"), [("portforward", True), ("exec", True), ("log", False)])
def test_the_135_create_check_covers_the_streaming_subresources_only(cluster, sub, denied):
    cluster.api.rbac.set_role(
        {"rules": [{"resources": [f"pods/{sub}", "pods"], "verbs": ["get"]}], "version": "1.35"}
    )
    target = config.load(cluster.kubeconfig())
    r = httpx.get(
        f"{target.server}/api/v1/namespaces/{NS}/pods/x/{sub}",
        headers={"Connection": "Upgrade", "Upgrade": "websocket"},
        verify=target.ssl_context(),
        timeout=10,
    )
    assert (r.status_code == 403) is denied, r.text
    if denied:  # the pod registry's denial: the authorizer's (empty) reason, no verb named
        assert r.json()["message"] == 'pods "x" is forbidden: '


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl reads the discovery")
def test_version_and_discovery_answer_as_a_kind_cluster(cluster):
    kc = cluster.kubeconfig()
    r = subprocess.run(
        ["kubectl", "--kubeconfig", kc, "version", "-o", "json"], capture_output=True, text=True, timeout=30
    )
    assert r.returncode == 0, r.stderr
    server = json.loads(r.stdout)["serverVersion"]
    assert (server["major"], server["minor"]) == ("1", "32")
    assert "version difference" not in r.stderr  # within kubectl's supported skew
    r = subprocess.run(
        ["kubectl", "--kubeconfig", kc, "api-resources", "--api-group="],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    names = {line.split()[0] for line in r.stdout.splitlines()[1:]}
    assert {"pods", "services"} <= names


async def test_a_watch_with_selectors_sees_its_pods_come_and_go(cluster):
    """labelSelector and fieldSelector on a watch, as the cacher filters: a pod that stops
    matching arrives as DELETED, one that never matched never arrives."""
    target = config.load(cluster.kubeconfig())
    rv = str(cluster.api.rv)
    params = {
        "watch": "true",
        "resourceVersion": rv,
        "labelSelector": "app in (batch, jobs),tier!=frontend",
        "fieldSelector": "status.phase=Running",
    }
    batch = SimPod("batch-0", NS, "batch", "10.244.2.1", [Container("a", "a")])
    other = SimPod("web-0", NS, "web", "10.244.2.2", [Container("a", "a")])
    front = SimPod("batch-1", NS, "batch", "10.244.2.3", [Container("a", "a")], labels={"tier": "frontend"})
    seen: list[tuple[str, str]] = []
    async with (
        httpx.AsyncClient(verify=target.ssl_context(), timeout=10) as c,
        c.stream("GET", f"{target.server}/api/v1/namespaces/{NS}/pods", params=params) as r,
    ):
        assert r.status_code == 200
        lines = r.aiter_lines()

        async def change(coro) -> None:
            await asyncio.to_thread(cluster.run, coro)

        await change(cluster.api.add_pod(other))
        await change(cluster.api.add_pod(front))
        await change(cluster.api.add_pod(batch))
        batch.phase = "Succeeded"
        await change(cluster.api.pod_status_changed(batch))
        for _ in range(2):
            event = json.loads(await asyncio.wait_for(anext(lines), 10))
            seen.append((event["type"], event["object"]["metadata"]["name"]))
    assert seen == [("ADDED", "batch-0"), ("DELETED", "batch-0")]


def test_a_bad_selector_is_refused_as_the_api_server_refuses_it(cluster):
    target = config.load(cluster.kubeconfig())
    for params, says in (
        ({"fieldSelector": "spec.containers=a"}, "field label not supported: spec.containers"),
        ({"labelSelector": "app in batch"}, "unable to parse requirement"),
    ):
        r = httpx.get(
            f"{target.server}/api/v1/namespaces/{NS}/pods", params=params, verify=target.ssl_context()
        )
        assert r.status_code == 400 and says in r.json()["message"], r.text


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/apis", 'forbidden: User "kubernetes-admin" cannot get path "/apis"'),
        ("/api/v1", 'forbidden: User "kubernetes-admin" cannot get path "/api/v1"'),
        (
            f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices",
            'virtualservices.networking.istio.io is forbidden: User "kubernetes-admin" cannot list resource '
            f'"virtualservices" in API group "networking.istio.io" in the namespace "{NS}"',
        ),
    ],
)
def test_discovery_and_group_resources_are_authorized_too(cluster, path, says):
    """A user left with no binding at all loses discovery and every group's resources, in
    the API server's words; /version stays open (system:public-info-viewer)."""
    target = config.load(cluster.kubeconfig())
    cluster.api.auth_mode = "forbidden"
    try:
        r = httpx.get(target.server + path, verify=target.ssl_context(), timeout=10)
        assert (r.status_code, r.json()["message"]) == (403, says)
        assert (
            httpx.get(target.server + "/version", verify=target.ssl_context(), timeout=10).status_code == 200
        )
    finally:
        cluster.api.auth_mode = "ok"
