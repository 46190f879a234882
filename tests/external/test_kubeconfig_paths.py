"""Paths in a kubeconfig are read as kubectl reads them (client-go clientcmd loader.go
ResolveLocalPaths): relative to the file that names them, even when KUBECONFIG keeps the
cluster and the user in different folders; an exec plugin's relative command likewise,
run in the caller's working directory; and an empty file in the list is an empty config."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.kube_cluster import NS, POD, tls_cluster
from meshtui.kube import config

LOGIN = """#!{python}
import json, os, pathlib
pathlib.Path({record!r}).write_text(os.getcwd())
print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {{"token": "token-a"}}}}))
"""


def write(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "Config", **doc}))
    return path


@pytest.fixture()
def cluster(tmp_path, mesh):
    with tls_cluster(tmp_path, mesh) as c:
        yield c


def cluster_file(cluster, folder: Path) -> Path:
    """The cluster, the context and the current-context, with the CA as a relative file."""
    (folder / "pki").mkdir(parents=True, exist_ok=True)
    (folder / "pki" / "ca.crt").write_bytes(cluster.ca.ca_pem)
    return write(
        folder / "clusters.yaml",
        {
            "clusters": [
                {
                    "name": "c",
                    "cluster": {
                        "server": f"https://127.0.0.1:{cluster.api.port}",
                        "certificate-authority": "pki/ca.crt",
                    },
                }
            ],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        },
    )


def cert_user_file(cluster, folder: Path) -> Path:
    """The user alone, in another folder, its certificate and key as relative files."""
    cert = cluster.ca.client_cert()
    (folder / "certs").mkdir(parents=True, exist_ok=True)
    (folder / "certs" / "user.crt").write_bytes(cert.cert_pem)
    (folder / "certs" / "user.key").write_bytes(cert.key_pem)
    user = {"client-certificate": "certs/user.crt", "client-key": "certs/user.key"}
    return write(folder / "users.yaml", {"users": [{"name": "u", "user": user}]})


def pods_with_meshtui() -> list[str]:
    target = config.load()
    return [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=10).items]


def pods_with_kubectl() -> list[str]:
    r = subprocess.run(
        ["kubectl", "get", "pods", "-n", NS, "-o", "name", "--request-timeout", "10s"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    return [line.removeprefix("pod/") for line in r.stdout.split()]


kubectl = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is the oracle")


@kubectl
def test_a_users_certificate_is_read_from_the_users_own_folder(cluster, tmp_path, monkeypatch):
    listed = [cluster_file(cluster, tmp_path / "a"), cert_user_file(cluster, tmp_path / "b")]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, listed)))
    monkeypatch.chdir(tmp_path)  # neither folder: nothing may resolve against the cwd
    assert pods_with_kubectl() == [POD]
    assert pods_with_meshtui() == [POD]


@kubectl
def test_an_empty_file_in_the_list_is_an_empty_config(cluster, tmp_path, monkeypatch):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# kept for later\n")
    listed = [empty, cluster_file(cluster, tmp_path / "a"), cert_user_file(cluster, tmp_path / "b")]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, listed)))
    assert pods_with_kubectl() == [POD]
    assert pods_with_meshtui() == [POD]


def test_only_empty_files_say_so_in_one_line(tmp_path, monkeypatch):
    (tmp_path / "one").write_text("")
    (tmp_path / "two").write_text("\n")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'one'}{os.pathsep}{tmp_path / 'two'}")
    with pytest.raises(config.KubeError, match=r"is empty: no cluster, user or context") as err:
        config.load()
    assert "\n" not in str(err.value)


@kubectl
def test_an_exec_plugins_relative_command_is_found_beside_its_file_and_run_here(
    cluster, tmp_path, monkeypatch
):
    cluster.run(cluster.api.rotate_token("token-a", "exec-user"))
    users = tmp_path / "b"
    (users / "bin").mkdir(parents=True)
    login = users / "bin" / "login"
    login.write_text(LOGIN.format(python=sys.executable, record=str(tmp_path / "cwd")))
    login.chmod(0o755)
    plugin = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": "./bin/login",
        "interactiveMode": "Never",
    }
    user_file = write(users / "users.yaml", {"users": [{"name": "u", "user": {"exec": plugin}}]})
    listed = [cluster_file(cluster, tmp_path / "a"), user_file]
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join(map(str, listed)))
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    assert pods_with_kubectl() == [POD]
    assert (tmp_path / "cwd").read_text() == str(here)  # kubectl's plugin runs where kubectl does
    (tmp_path / "cwd").unlink()
    assert pods_with_meshtui() == [POD]
    assert (tmp_path / "cwd").read_text() == str(here)
