"""A kubeconfig user with `as` / `as-groups` / `as-uid` (what `kubectl --as` sets) is
served as that identity on every request -- list, watch and the port-forward's websocket
-- as kubectl is, and the simulated API server checks the `impersonate` verb and then
authorizes the narrower identity, as apiserver's impersonation filter does."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest

from helpers.kube_cluster import NS, POD, ready_through_a_forward, tls_cluster
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager, ForwardState

ADMIN = "kubernetes-admin"  # the client certificate's CN (kube_cluster.py)
JANE = {"as": "jane", "as-groups": ["devs", "system:authenticated"], "as-uid": "1234"}


@pytest.fixture()
def cluster(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as c:
        # jane may read pods but not forward to them; the admin may do anything
        c.api.rbac.set_role(
            {"user": "jane", "rules": [{"resources": ["pods"], "verbs": ["get", "list", "watch"]}]}
        )
        yield c


def kubeconfig_as(cluster, **user_keys) -> str:
    cert = cluster.ca.client_cert()
    (cluster.directory / "u.crt").write_bytes(cert.cert_pem)
    (cluster.directory / "u.key").write_bytes(cert.key_pem)
    user = {
        "client-certificate": str(cluster.directory / "u.crt"),
        "client-key": str(cluster.directory / "u.key"),
    }
    return cluster.kubeconfig(user={**user, **user_keys})


def identities(cluster) -> set[tuple[str, tuple[str, ...]]]:
    return {(user, groups) for _path, user, groups in cluster.api.acting}


async def test_list_watch_and_forward_act_as_the_impersonated_user(cluster):
    target = config.load(kubeconfig_as(cluster, **JANE))
    cluster.api.acting.clear()
    names = [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=10).items]
    assert names == [POD]
    events = PodWatch(target, NS).events()
    try:
        assert (await anext(events)).kind == "SYNC"
    finally:
        await events.aclose()
    # two groups on two header lines: one group named "devs, system:authenticated" would fail
    assert identities(cluster) == {("jane", ("devs", "system:authenticated"))}
    manager = ForwardManager(target)
    try:
        with pytest.raises(httpx.HTTPError):  # the forward closes the connection
            fwd = await manager.acquire(NS, POD, 15000)
            async with httpx.AsyncClient(trust_env=False) as c:
                await c.get(fwd.url + "/ready", timeout=5)
        status = manager.statuses()[0]
        assert status.state == ForwardState.FAILED
        assert 'User "jane" cannot get resource "pods/portforward"' in status.reason
    finally:
        await manager.close()


async def test_without_impersonation_the_same_user_forwards(cluster):
    """The check above can fail: the base identity itself is allowed to forward."""
    target = config.load(kubeconfig_as(cluster))
    assert await ready_through_a_forward(target) == "LIVE"
    assert {user for _p, user, _g in cluster.api.acting} == {ADMIN}


def test_an_identity_the_user_may_not_take_is_refused_in_one_line(cluster):
    cluster.api.rbac.set_role({"user": ADMIN, "rules": [{"resources": ["pods"], "verbs": ["list"]}]})
    target = config.load(kubeconfig_as(cluster, **JANE))
    with pytest.raises(Exception) as err:
        target.core().list_namespaced_pod(NS, _request_timeout=10)
    line = config.describe(err.value, target.server)
    assert "\n" not in line
    assert f'User "{ADMIN}" cannot impersonate resource "users"' in line


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is the oracle")
def test_kubectl_sends_the_same_identity(cluster):
    kc = kubeconfig_as(cluster, **JANE)
    cluster.api.acting.clear()
    r = subprocess.run(
        ["kubectl", "--kubeconfig", kc, "get", "pods", "-n", NS, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert [p["metadata"]["name"] for p in json.loads(r.stdout)["items"]] == [POD]
    assert ("jane", ("devs", "system:authenticated")) in identities(cluster)
