"""An exec plugin that gives a client certificate (not a token) has it renewed when it is
due, as client-go's exec authenticator renews it: the plugin runs again, and every later
request -- the kubernetes client's pooled connections included, and the forwards'
websockets -- presents the new certificate."""

from __future__ import annotations

import datetime
import sys

from helpers.kube_cluster import NS, POD, ready_through_a_forward, tls_cluster
from meshtui.kube import config, exec_cert

PLUGIN = """#!{python}
import json, pathlib
here = pathlib.Path({folder!r})
with open(here / "runs", "a") as f:
    f.write("run\\n")
status = {{
    "clientCertificateData": (here / "next.crt").read_text(),
    "clientKeyData": (here / "next.key").read_text(),
    "expirationTimestamp": (here / "next.exp").read_text(),
}}
doc = {{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}}
print(json.dumps(doc))
"""


def issue(cluster, folder, user: str, seconds: int) -> None:
    cert = cluster.ca.client_cert(user, (), datetime.timedelta(seconds=seconds))
    (folder / "next.crt").write_bytes(cert.cert_pem)
    (folder / "next.key").write_bytes(cert.key_pem)
    at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    (folder / "next.exp").write_text(at.strftime("%Y-%m-%dT%H:%M:%SZ"))


def users_since(cluster, mark: int) -> set[str]:
    return {user for _path, user, _groups in list(cluster.api.acting)[mark:]}


async def test_a_due_certificate_is_renewed_for_every_later_request(tmp_path, mesh, monkeypatch):
    with tls_cluster(tmp_path, mesh) as cluster:
        folder = tmp_path / "plugin"
        folder.mkdir()
        plugin = folder / "login"
        plugin.write_text(PLUGIN.format(python=sys.executable, folder=str(folder)))
        plugin.chmod(0o755)
        issue(cluster, folder, "exec-a", 600)
        user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin)}}
        target = config.load(cluster.kubeconfig(user=user))
        core = target.core()
        mark = len(cluster.api.acting)
        assert [p.metadata.name for p in core.list_namespaced_pod(NS, _request_timeout=10).items] == [POD]
        assert users_since(cluster, mark) == {"exec-a"}

        issue(cluster, folder, "exec-b", 600)  # what the plugin gives from now on
        monkeypatch.setattr(exec_cert, "SKEW", datetime.timedelta(seconds=900))  # A is now due
        mark = len(cluster.api.acting)
        assert [p.metadata.name for p in core.list_namespaced_pod(NS, _request_timeout=10).items] == [POD]
        # the same ApiClient: without dropping its pool, the kept-alive connection would still be A's
        assert (folder / "runs").read_text().count("run") == 2
        assert users_since(cluster, mark) == {"exec-b"}

        monkeypatch.setattr(exec_cert, "SKEW", datetime.timedelta(seconds=10))
        mark = len(cluster.api.acting)
        assert await ready_through_a_forward(target) == "LIVE"
        assert users_since(cluster, mark) == {"exec-b"}  # the websocket presents B too
