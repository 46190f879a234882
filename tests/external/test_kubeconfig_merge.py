"""KUBECONFIG=a:b read as kubectl reads it: files merged, the first to set a name wins."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.mesh import pod_name
from helpers.wait import until
from meshtui.kube import config
from meshtui.ui.app import MeshtuiApp, Options

NS = "istioinaction"


def split(mesh, tmp_path: Path) -> dict[str, Path]:
    """The demo kubeconfig cut in two as people keep them (clusters and users in one file,
    contexts in another), plus files that disagree with them."""
    doc = json.loads(Path(mesh.kubeconfig).read_text())
    files = {
        # clusters and users, no context at all
        "creds": {"clusters": doc["clusters"], "users": doc["users"]},
        # only the context and the current-context
        "contexts": {"contexts": doc["contexts"], "current-context": "meshtui-demo"},
        # the same cluster name at a dead address, and another current-context
        "stale": {
            "clusters": [{"name": "meshtui-demo", "cluster": {"server": "https://127.0.0.1:9"}}],
            "contexts": [
                {"name": "elsewhere", "context": {"cluster": "meshtui-demo", "user": "meshtui-demo"}}
            ],
            "current-context": "elsewhere",
        },
    }
    paths = {}
    for name, body in files.items():
        paths[name] = tmp_path / f"{name}.yaml"
        paths[name].write_text(json.dumps({"apiVersion": "v1", "kind": "Config", **body}))
    return paths


def env_list(*paths: Path) -> str:
    return os.pathsep.join(str(p) for p in paths)


def test_clusters_and_users_in_one_file_contexts_in_another(mesh, tmp_path, monkeypatch):
    f = split(mesh, tmp_path)
    monkeypatch.setenv("KUBECONFIG", env_list(f["creds"], tmp_path / "missing.yaml", f["contexts"]))
    target = config.load()
    assert (target.context, target.server) == ("meshtui-demo", mesh.info["api"])
    names = [p.metadata.name for p in target.core().list_namespaced_pod(NS, _request_timeout=10).items]
    assert pod_name(mesh, "catalog") in names


@pytest.mark.parametrize(
    ("order", "context", "server_is_live"),
    [
        (("creds", "contexts", "stale"), "meshtui-demo", True),  # first current-context, first cluster
        (("stale", "creds", "contexts"), "elsewhere", False),  # the stale file now sets both first
        (("creds", "stale", "contexts"), "elsewhere", True),  # cluster from creds, context from stale
    ],
)
def test_the_first_file_to_set_a_name_wins_as_with_kubectl(
    mesh, tmp_path, monkeypatch, order, context, server_is_live
):
    f = split(mesh, tmp_path)
    listed = env_list(*(f[name] for name in order))
    monkeypatch.setenv("KUBECONFIG", listed)
    target = config.load()
    assert target.context == context
    assert (target.server == mesh.info["api"]) is server_is_live
    if shutil.which("kubectl"):  # kubectl itself is the oracle

        def kubectl(*args: str) -> str:
            r = subprocess.run(
                ["kubectl", *args],
                capture_output=True,
                text=True,
                timeout=30,
                env={**os.environ, "KUBECONFIG": listed},
            )
            assert r.returncode == 0, r.stderr
            return r.stdout.strip()

        assert kubectl("config", "current-context") == target.context
        server = kubectl(
            "config", "view", "-o", 'jsonpath={.clusters[?(@.name=="meshtui-demo")].cluster.server}'
        )
        assert server == target.server


def test_headless_reads_the_merged_list(mesh, tmp_path):
    f = split(mesh, tmp_path)
    env = {**os.environ, "KUBECONFIG": env_list(f["creds"], f["contexts"])}
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "meshtui",
            "stats",
            pod_name(mesh, "catalog"),
            "-n",
            NS,
            "--prefix",
            "server.live",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert "server.live" in r.stdout


async def test_the_app_reads_the_merged_list(mesh, tmp_path, monkeypatch):
    f = split(mesh, tmp_path)
    monkeypatch.setenv("KUBECONFIG", env_list(f["creds"], f["contexts"]))
    app = MeshtuiApp(Options())
    async with app.run_test(size=(120, 40)):
        key = f"{NS}/{pod_name(mesh, 'catalog')}"
        await until(lambda: key in app.pods._shown, 15, "catalog listed through the merged kubeconfig")
