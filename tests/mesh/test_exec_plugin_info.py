"""What an exec credential plugin is told and what a user is told about it, as client-go
does: provideClusterInfo gives the CA as data and the proxy-url (rest.ConfigToExecCluster),
interactiveMode Always is refused without a terminal, and a plugin that times out shows
what it printed (a device-code login's code and URL)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from meshtui.kube import config, credentials

PLUGIN = """#!{python}
import json, os, pathlib, sys, time
pathlib.Path({record!r}).write_text(os.environ["KUBERNETES_EXEC_INFO"])
if os.environ.get("DEVICE_LOGIN"):
    print("To sign in, open https://login.example/device and enter the code QX7-T2M", file=sys.stderr)
    sys.stderr.flush()
    time.sleep(30)
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": "token-a"}}}}))
"""


@pytest.fixture()
def cluster(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as c:
        c.run(c.api.rotate_token("token-a", "exec-user"))
        yield c


def kubeconfig(cluster, tmp_path, **exec_keys) -> str:
    plugin = tmp_path / "login"
    plugin.write_text(PLUGIN.format(python=sys.executable, record=str(tmp_path / "info.json")))
    plugin.chmod(0o755)
    (tmp_path / "ca.crt").write_bytes(cluster.ca.ca_pem)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin), **exec_keys}}
    # the CA as a file named relative to the kubeconfig, as kind and kubeadm write it too
    path = cluster.kubeconfig(user=user, name="kc.yaml")
    doc = json.loads(Path(path).read_text())
    entry = doc["clusters"][0]["cluster"]
    del entry["certificate-authority-data"]
    entry.update({"certificate-authority": "ca.crt", "tls-server-name": "127.0.0.1"})
    entry["extensions"] = [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "k8s"}}]
    Path(path).write_text(json.dumps(doc))
    return path


def test_provide_cluster_info_gives_the_ca_as_data(cluster, tmp_path):
    target = config.load(kubeconfig(cluster, tmp_path, provideClusterInfo=True, interactiveMode="Never"))
    assert [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=10).items] == [
        POD
    ]
    told = json.loads((tmp_path / "info.json").read_text())["spec"]
    assert told["interactive"] is False
    assert told["cluster"] == {
        "server": f"https://127.0.0.1:{cluster.api.port}",
        "tls-server-name": "127.0.0.1",
        "certificate-authority-data": base64.b64encode(cluster.ca.ca_pem).decode(),
        "config": {"audience": "k8s"},
    }


def test_interactive_mode_always_is_refused_in_one_line(cluster, tmp_path):
    with pytest.raises(config.KubeError, match=r"needs a terminal \(interactiveMode: Always\)") as err:
        config.load(kubeconfig(cluster, tmp_path, interactiveMode="Always"))
    assert "\n" not in str(err.value)
    assert not (tmp_path / "info.json").exists()  # never started


def test_a_plugin_that_times_out_shows_what_it_printed(cluster, tmp_path, monkeypatch):
    monkeypatch.setattr(credentials, "PLUGIN_TIMEOUT", 1.5)
    monkeypatch.setenv("DEVICE_LOGIN", "1")
    with pytest.raises(config.KubeError, match=r"gave no credential within 2s: To sign in, open") as err:
        config.load(kubeconfig(cluster, tmp_path, interactiveMode="IfAvailable"))
    assert "enter the code QX7-T2M" in str(err.value) and "\n" not in str(err.value)
