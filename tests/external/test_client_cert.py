"""The demo's kubeconfig authenticates as kind's does: a client certificate, no token."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
from pathlib import Path

import httpx
import pytest

from helpers.mesh import api_tls, pod_name, sim
from meshtui.demo.mesh import kubeconfig_yaml
from meshtui.demo.tls import ClusterCA
from meshtui.kube import config
from meshtui.kube.pods import PodWatch
from meshtui.kube.portforward import ForwardManager, ForwardState

NS = "istioinaction"


def test_the_demo_kubeconfig_has_a_client_certificate_and_no_token(mesh):
    doc = json.loads(Path(mesh.kubeconfig).read_text())
    user = doc["users"][0]["user"]
    # files in the demo's folder (-data would be copied to temp files a killed demo leaves);
    # the -data form kind writes is exercised by tests/kube_cluster.py's clusters
    assert set(user) == {"client-certificate", "client-key"}
    assert b"BEGIN CERTIFICATE" in Path(user["client-certificate"]).read_bytes()
    target = config.load(mesh.kubeconfig)
    assert target.auth_header() is None  # nothing but the certificate says who we are


async def test_list_watch_and_forward_with_the_client_certificate(mesh):
    target = config.load(mesh.kubeconfig)
    watch = PodWatch(target, NS)
    events = watch.events()
    try:
        first = await anext(events)
        assert first.kind == "SYNC" and any(p.name == pod_name(mesh, "catalog") for p in first.pods)
    finally:
        await events.aclose()
    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, pod_name(mesh, "catalog"), 15000)
        async with httpx.AsyncClient() as c:
            assert (await c.get(fwd.url + "/ready")).text.strip() == "LIVE"
        assert fwd.status.state == ForwardState.UP
    finally:
        await manager.close()


def test_the_user_is_the_certificates_common_name(mesh):
    """As the x509 authenticator: the RBAC denial names the certificate's CN; the same
    request with the demo's bearer token (and no certificate) names the token's user."""
    target = config.load(mesh.kubeconfig)
    cfg = target.configuration
    try:
        sim(mesh, "/_sim/auth/forbidden")
        ctx = ssl.create_default_context(cafile=mesh.info["ca_file"])
        ctx.load_cert_chain(cfg.cert_file, cfg.key_file)
        as_cert = httpx.get(mesh.info["api"] + f"/api/v1/namespaces/{NS}/pods", verify=ctx)
        as_token = httpx.get(
            mesh.info["api"] + f"/api/v1/namespaces/{NS}/pods",
            headers={"Authorization": f"Bearer {mesh.info['token']}"},
            verify=api_tls(mesh),
        )
    finally:
        sim(mesh, "/_sim/auth/ok")
    assert as_cert.status_code == as_token.status_code == 403
    assert 'User "kubernetes-admin" cannot list resource "pods"' in as_cert.json()["message"]
    assert 'User "system:serviceaccount:default:meshtui" cannot list' in as_token.json()["message"]
    anonymous = httpx.get(mesh.info["api"] + "/api/v1/pods", verify=api_tls(mesh))
    assert anonymous.status_code == 401


def test_a_certificate_from_another_ca_is_refused(mesh, tmp_path):
    stranger = ClusterCA(tmp_path, name="stranger").client_cert()
    (tmp_path / "c.crt").write_bytes(stranger.cert_pem)
    (tmp_path / "c.key").write_bytes(stranger.key_pem)
    ctx = ssl.create_default_context(cafile=mesh.info["ca_file"])
    ctx.load_cert_chain(tmp_path / "c.crt", tmp_path / "c.key")
    with pytest.raises(httpx.HTTPError):
        httpx.get(mesh.info["api"] + "/api/v1/pods", verify=ctx)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed here")
def test_kubectl_authenticates_with_the_client_certificate(mesh, tmp_path):
    doc = json.loads(Path(mesh.kubeconfig).read_text())
    assert "token" not in doc["users"][0]["user"]
    r = subprocess.run(
        ["kubectl", "--kubeconfig", mesh.kubeconfig, "get", "pods", "-n", NS, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0, r.stderr
    assert f"pod/{pod_name(mesh, 'catalog')}" in r.stdout.split()
    # and the same cluster with a token nobody issued instead of the certificate is refused
    bare = tmp_path / "bare"
    bare.write_text(kubeconfig_yaml(mesh.info["api"], "not-a-token", Path(mesh.info["ca_file"]).read_bytes()))
    r = subprocess.run(
        ["kubectl", "--kubeconfig", str(bare), "get", "pods", "-n", NS, "-o", "name"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode != 0 and "Unauthorized" in r.stderr


def test_a_killed_meshtui_leaves_no_inline_key_behind(tmp_path):
    """kind's kubeconfig carries the client key inline; the kubernetes client writes it to
    a file for TLS and removes it only at a clean exit. Ours go where a watchdog removes
    them however the process ends."""
    import os
    import subprocess
    import sys

    from helpers.wait import wait_for

    (tmp_path / "ca").mkdir()
    ca = ClusterCA(tmp_path / "ca")
    cert = ca.client_cert()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        kubeconfig_yaml("https://127.0.0.1:9", None, ca.ca_pem, cert)  # -data, as kind writes
    )
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = (
        "import os, signal, sys\n"
        "from meshtui.kube import config\n"
        f"t = config.load({str(kubeconfig)!r})\n"
        "print(t.configuration.key_file, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == -9, proc.stderr
    key_file = Path(proc.stdout.strip())
    assert key_file.parent.parent == scratch and key_file.parent.name.startswith("meshtui-kube-")
    wait_for(lambda: not any(scratch.iterdir()), 10, "the inline key's folder removed")
