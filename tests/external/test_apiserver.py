"""The simulated API server, checked by the official kubernetes client (unmodified)."""

from __future__ import annotations

import shutil
import subprocess
import threading

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException
from kubernetes.stream import portforward

from helpers.mesh import pod_name, sim
from helpers.wait import wait_for
from meshtui.kube import config as kconfig


@pytest.fixture()
def core(mesh):
    api = client.ApiClient(config.new_client_from_config(mesh.kubeconfig).configuration)
    return client.CoreV1Api(api)


def test_list_pods_all_namespaces(core):
    pods = core.list_pod_for_all_namespaces().items
    names = {(p.metadata.namespace, p.metadata.name.split("-")[0]) for p in pods}
    assert {
        ("istioinaction", "webapp"),
        ("istioinaction", "catalog"),
        ("istio-system", "istiod"),
    } <= names
    webapp = next(p for p in pods if p.metadata.name.startswith("webapp"))
    assert [c.name for c in webapp.spec.containers] == ["webapp", "istio-proxy"]
    assert webapp.status.container_statuses[1].image.endswith(":1.17.8")


def test_watch_sees_a_rollout_restart(core, mesh):
    events: list[tuple[str, str]] = []
    rv = core.list_namespaced_pod("istioinaction").metadata.resource_version

    def run() -> None:
        w = watch.Watch()
        for ev in w.stream(
            core.list_namespaced_pod, "istioinaction", resource_version=rv, timeout_seconds=10
        ):
            events.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=run)
    t.start()
    new = sim(mesh, "/_sim/restart/istioinaction/catalog")["name"]
    t.join(15)
    assert ("ADDED", new) in events
    assert any(kind == "DELETED" and name.startswith("catalog-") and name != new for kind, name in events)


def test_portforward_with_the_official_client(core, mesh):
    name = pod_name(mesh, "webapp")
    pf = portforward(core.connect_get_namespaced_pod_portforward, name, "istioinaction", ports="15000")
    sock = pf.socket(15000)
    sock.setblocking(True)
    sock.sendall(b"GET /server_info HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    assert data.startswith(b"HTTP/1.1 200")
    assert b'"state": "LIVE"' in data
    assert pf.error(15000) is None


def test_auth_failures_are_status_objects_described_in_one_line(core, mesh):
    try:
        sim(mesh, "/_sim/auth/forbidden")
        with pytest.raises(ApiException) as exc:
            core.list_pod_for_all_namespaces()
        assert exc.value.status == 403
        line = kconfig.describe(exc.value)
        assert line.startswith("RBAC denied (403)") and "cannot list" in line and "\n" not in line
        sim(mesh, "/_sim/auth/expired")
        with pytest.raises(ApiException) as exc:
            core.list_pod_for_all_namespaces()
        assert "expired" in kconfig.describe(exc.value)
    finally:
        sim(mesh, "/_sim/auth/ok")
    assert wait_for(lambda: core.list_pod_for_all_namespaces().items, 5, "access back")


def test_unreachable_api_server_is_one_line(tmp_path):
    from meshtui.demo.mesh import kubeconfig_yaml

    path = tmp_path / "kc"
    path.write_text(kubeconfig_yaml("http://127.0.0.1:9", "t"))
    target = kconfig.load(str(path))
    with pytest.raises(Exception) as exc:
        target.core().list_pod_for_all_namespaces(_request_timeout=3)
    line = kconfig.describe(exc.value, target.server)
    assert "unreachable" in line and "\n" not in line


def test_kubeconfig_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(kconfig.KubeError, match="no kubeconfig"):
        kconfig.load()
    bad = tmp_path / "bad"
    bad.write_text("apiVersion: v1\nkind: Config\ncontexts: []\nclusters: []\nusers: []\n")
    with pytest.raises(kconfig.KubeError):
        kconfig.load(str(bad))


def test_kubeconfig_context_flag(mesh):
    target = kconfig.load(mesh.kubeconfig, "meshtui-demo")
    assert target.context == "meshtui-demo" and target.server.startswith("https://127.0.0.1:")
    with pytest.raises(kconfig.KubeError, match="not in"):
        kconfig.load(mesh.kubeconfig, "other")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here")
def test_kubectl_get_pods_all_namespaces(mesh):
    r = subprocess.run(
        ["kubectl", "--kubeconfig", mesh.kubeconfig, "get", "pods", "-A"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    header, *rows = r.stdout.splitlines()
    assert header.split()[:5] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS"]
    assert any(
        row.split()[:4] == ["istioinaction", pod_name(mesh, "catalog"), "2/2", "Running"] for row in rows
    )
    assert any(row.startswith("istio-system") and "istiod-" in row for row in rows)


def test_api_server_speaks_tls(mesh):
    assert mesh.info["api"].startswith("https://127.0.0.1:")
    target = kconfig.load(mesh.kubeconfig)
    assert target.ssl_context() is not None  # the port-forward's websocket verifies it too
