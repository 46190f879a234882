"""Verb-aware RBAC in the simulator, as the real API server authorizes a port-forward."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from kubernetes.client.rest import ApiException

from helpers.mesh import api_tls, pod_name
from meshtui.demo import rbac
from meshtui.kube import config
from meshtui.kube.portforward import ForwardManager, ForwardState

NS = "istioinaction"


def set_role(mesh, verbs: list[str] | None, version: str = "1.33") -> None:
    rules = None if verbs is None else [{"resources": ["pods/portforward"], "verbs": verbs}]
    r = httpx.post(
        mesh.info["api"] + "/_sim/role",
        json={"rules": rules, "version": version},
        headers={"Authorization": f"Bearer {mesh.info['token']}"},
        verify=api_tls(mesh),
    )
    r.raise_for_status()


def denial(verb: str, pod: str) -> str:
    return (
        f'RBAC denied (403): pods "{pod}" is forbidden: User "kubernetes-admin" '
        f'cannot {verb} resource "pods/portforward" in API group "" in the namespace "{NS}"'
    )


async def forward_result(mesh, verbs: list[str], version: str = "1.33") -> tuple[str, str, str]:
    """(state, reason, body of /ready through the forward or "") under a Role with `verbs`."""
    pod = pod_name(mesh, "catalog")
    manager = ForwardManager(config.load(mesh.kubeconfig))
    set_role(mesh, verbs, version)
    try:
        fwd = await manager.acquire(NS, pod, 15000)
        body = ""
        if await fwd.probe():
            async with httpx.AsyncClient() as c:
                body = (await c.get(fwd.url + "/ready")).text.strip()
        return fwd.status.state.value, fwd.status.reason, body
    finally:
        set_role(mesh, None)
        await manager.close()


def test_request_verbs_as_requestinfo_resolves_them():
    assert rbac.request_verb("GET", "p", watch=False) == "get"
    assert rbac.request_verb("POST", "p", watch=False) == "create"
    assert rbac.request_verb("GET", "", watch=False) == "list"
    assert rbac.request_verb("GET", "", watch=True) == "watch"


async def test_get_alone_forwards(mesh):
    assert await forward_result(mesh, ["get"]) == ("up", "", "LIVE")


async def test_create_alone_is_refused_with_the_real_message(mesh):
    pod = pod_name(mesh, "catalog")
    state, reason, body = await forward_result(mesh, ["create"])
    assert (state, body) == (ForwardState.FAILED.value, "")
    assert reason == denial("get", pod)


@pytest.mark.parametrize(
    ("verbs", "missing"), [(["get"], "create"), (["create"], "get"), (["get", "create"], None)]
)
async def test_kubernetes_135_wants_create_too(mesh, verbs, missing):
    pod = pod_name(mesh, "catalog")
    state, reason, body = await forward_result(mesh, verbs, version="1.35")
    if missing is None:
        assert (state, reason, body) == ("up", "", "LIVE")
    elif missing == "get":  # the authorization filter's own words
        assert (state, reason) == ("failed", denial(missing, pod))
    else:  # the pod registry's, with RBAC's empty reason: the verb is only a hint
        assert state == "failed"
        assert reason.startswith(f'RBAC denied (403): pods "{pod}" is forbidden: (no reason given;')
        assert "needs create on pods/portforward" in reason


async def test_the_readme_cluster_role_is_enough(mesh):
    """The ClusterRole the README gives a read-only user, applied as the demo user's Role:
    the pods list, the Jaeger service lookup and a forward all pass (in 1.35 mode too)."""
    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("### RBAC meshtui needs") :]
    block = section[section.index("```yaml") + 7 : section.index("```", section.index("```yaml") + 7)]
    role = next(doc for doc in yaml.safe_load_all(block) if doc["kind"] == "ClusterRole")
    rules = [{"resources": r["resources"], "verbs": r["verbs"]} for r in role["rules"]]
    target = config.load(mesh.kubeconfig)
    try:
        for version in ("1.33", "1.35"):
            r = httpx.post(
                mesh.info["api"] + "/_sim/role",
                json={"rules": rules, "version": version},
                headers={"Authorization": f"Bearer {mesh.info['token']}"},
                verify=api_tls(mesh),
            )
            r.raise_for_status()
            assert target.core().list_pod_for_all_namespaces(_request_timeout=5).items
            assert target.core().read_namespaced_service("tracing", "istio-system").metadata.name == "tracing"
            manager = ForwardManager(target)
            try:
                fwd = await manager.acquire(NS, pod_name(mesh, "catalog"), 15000)
                assert await fwd.probe(), fwd.status.reason
            finally:
                await manager.close()
        # and it is not more than needed: without `services` the Jaeger lookup is denied
        set_role(mesh, ["get", "create"])
        with pytest.raises(ApiException) as denied:
            target.core().read_namespaced_service("tracing", "istio-system")
        assert denied.value.status == 403
    finally:
        set_role(mesh, None)
