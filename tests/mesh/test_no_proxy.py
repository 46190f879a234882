"""With a corporate proxy in the environment (HTTPS_PROXY and friends), every headless
command still reaches the demo directly: the API server and every port-forward are on
127.0.0.1, which no client of meshtui sends through a proxy (meshtui/http.py,
kube/proxy.py). A listener stands in for the proxy and counts who knocked."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from helpers.mesh import pod_name

GATEWAY = "istio-ingressgateway.istio-system"


@contextlib.contextmanager
def counting_proxy() -> Iterator[tuple[str, list[int]]]:
    """A TCP listener on loopback that accepts, counts and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    knocked: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            knocked.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", knocked
    finally:
        stop.set()
        thread.join(5)
        server.close()


def commands(mesh) -> dict[str, list[str]]:
    webapp = pod_name(mesh, "webapp")
    kube = ["--kubeconfig", mesh.kubeconfig]
    return {
        "stats": ["stats", webapp, "-n", "istioinaction", *kube, "--prefix", "server.", "--json"],
        "clusters": ["clusters", webapp, "-n", "istioinaction", *kube, "--json"],
        "istiod": ["istiod", "live", *kube, "--json"],
        "traces": ["traces", *kube, "--service", GATEWAY, "--lookback", "15m", "--json"],
    }


@pytest.mark.parametrize("command", ["stats", "clusters", "istiod", "traces"])
def test_a_proxy_in_the_environment_is_not_used_for_the_cluster_or_its_forwards(mesh, command):
    with counting_proxy() as (proxy, knocked):
        env = dict(os.environ)
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
            env[name] = proxy
        env.pop("NO_PROXY", None)
        env.pop("no_proxy", None)
        r = subprocess.run(
            [sys.executable, "-m", "meshtui", *commands(mesh)[command]],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert r.returncode == 0, r.stderr
        json.loads(r.stdout)  # a whole answer, not an error
        assert knocked == [], f"{len(knocked)} connection(s) went to the proxy"
