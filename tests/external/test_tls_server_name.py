"""tls-server-name: the API server's certificate names another host than the address
dialled (127.0.0.1); list, watch and the port-forward websockets all verify that name."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from helpers.wait import until
from meshtui.demo.simpod import Container, SimPod
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager, ForwardState

NAME = "kubernetes.default.svc"


@pytest.fixture()
def cluster(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh, names=(NAME,)) as c:
        yield c


async def test_without_tls_server_name_the_certificate_does_not_match(cluster):
    target = config.load(cluster.kubeconfig())
    with pytest.raises(Exception, match=r"(?i)certificate|hostname|IP address mismatch"):
        target.core().list_namespaced_pod(NS, _request_timeout=5)
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        assert not await fwd.probe()
        assert "certificate" in fwd.status.reason.lower()
    finally:
        await manager.close()


async def test_list_watch_and_forward_verify_the_tls_server_name(cluster):
    target = config.load(cluster.kubeconfig(cluster={"tls-server-name": NAME}))
    assert target.tls_server_name() == NAME
    assert [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=5).items] == [POD]
    watch = PodWatch(target, NS)
    events = watch.events()
    try:
        first = await anext(events)
        assert first.kind == "SYNC" and [p.name for p in first.pods] == [POD]
        cluster.run(
            cluster.api.add_pod(
                SimPod("webapp-1-a", NS, "webapp", "10.244.0.10", [Container("app", "webapp")])
            )
        )
        event = await anext(events)  # over the watch connection, verified for NAME too
        assert (event.kind, event.pods[0].name) == ("ADDED", "webapp-1-a")
    finally:
        await events.aclose()
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, 15000)
        async with httpx.AsyncClient() as c:
            assert (await c.get(fwd.url + "/ready")).text.strip() == "LIVE"
        await until(lambda: fwd.status.state == ForwardState.UP, 5, "forward up")
    finally:
        await manager.close()


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here")
def test_kubectl_agrees(cluster):
    plain = cluster.kubeconfig(name="plain")
    named = cluster.kubeconfig(cluster={"tls-server-name": NAME}, name="named")
    run = lambda kc: subprocess.run(  # noqa: E731
        ["kubectl", "--kubeconfig", kc, "get", "pods", "-n", NS, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    refused, accepted = run(plain), run(named)
    assert refused.returncode != 0 and "certificate" in refused.stderr
    assert accepted.returncode == 0 and accepted.stdout.split() == [f"pod/{POD}"], accepted.stderr
