"""The demo's kubelet: a sidecar Envoy that dies is restarted as on a cluster.

Real kubectl (`get pod -w`, server-side Table rows) and the official kubernetes client read
what the simulated API server says about it; /proc says no zombie is left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from kubernetes import client, config

from helpers.mesh import alive, descendants, envoys
from helpers.wait import wait_for
from meshtui.demo.kubelet import Backoff
from meshtui.demo.podtable import human_duration, pod_cells
from meshtui.demo.run import start_mesh

WEBAPP = "webapp-7685bcb84-hxpqj"


def test_backoff_follows_client_go():
    now = [100.0]
    b = Backoff(1.0, 8.0, clock=lambda: now[0])
    assert not b.in_backoff_since("c", 100.0)  # the first death restarts at once
    b.next("c", 100.0)
    now[0] = 100.5
    assert b.in_backoff_since("c", 100.4) and b.get("c") == 1.0  # died again within 1 s
    now[0] = 101.5
    assert not b.in_backoff_since("c", 100.4)
    b.next("c", 100.4)
    assert b.get("c") == 2.0
    for _ in range(5):
        b.next("c", now[0])
    assert b.get("c") == 8.0  # capped
    now[0] += 17.0
    assert not b.in_backoff_since("c", now[0])
    b.next("c", now[0])  # stable for twice the cap: back to the start
    assert b.get("c") == 1.0


def test_pod_cells_as_kubectl_prints_them():
    def pod(*statuses: dict) -> dict:
        return {
            "metadata": {"name": "p", "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}]},
            "status": {"phase": "Running", "containerStatuses": list(statuses)},
        }

    now = 1767225600.0 + 600  # ten minutes after creation
    app = {"ready": True, "restartCount": 0, "state": {"running": {}}}
    killed = {"exitCode": 137, "reason": "Error", "finishedAt": "2026-01-01T00:09:55Z"}
    down = {"ready": False, "restartCount": 0, "state": {"terminated": killed}}
    assert pod_cells(pod(app, down), now)[:5] == ["p", "1/2", "Error", "0", "10m"]
    back = {"ready": False, "restartCount": 1, "state": {"running": {}}, "lastState": {"terminated": killed}}
    assert pod_cells(pod(app, back), now)[1:4] == ["1/2", "Running", "1 (5s ago)"]
    clean = {**down, "state": {"terminated": {**killed, "exitCode": 0, "reason": "Completed"}}}
    assert pod_cells(pod(app, clean), now)[2] == "NotReady"  # no Ready condition
    assert [human_duration(s) for s in (5, 125, 600, 3 * 3600 + 60, 50 * 3600)] == [
        "5s",
        "2m5s",
        "10m",
        "3h1m",
        "2d2h",
    ]


@pytest.fixture()
def own_mesh():
    """A mesh of its own: this module kills Envoys."""
    with start_mesh(rate=5.0) as m:
        yield m


def envoy_of(mesh, pod: str) -> int:
    (pid,) = [p for p in envoys(descendants(mesh.proc.pid)) if pod in Path(f"/proc/{p}/cmdline").read_text()]
    return pid


class KubectlWatch:
    """`kubectl get pod NAME -w`: every row it prints, collected."""

    def __init__(self, kubeconfig: str, name: str) -> None:
        self.proc = subprocess.Popen(
            ["kubectl", "--kubeconfig", kubeconfig, "get", "pod", name, "-n", "istioinaction", "-w"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.rows: list[list[str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.rows.append(line.split())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(5)
        self._reader.join(5)


def test_killed_sidecar_is_restarted_as_a_kubelet_would(own_mesh):
    first = envoy_of(own_mesh, WEBAPP)
    watch = KubectlWatch(own_mesh.kubeconfig, WEBAPP)
    try:
        wait_for(lambda: any(r[:2] == [WEBAPP, "2/2"] for r in watch.rows), 20, "kubectl's first row")
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: any(r[1:4] == ["1/2", "Error", "0"] for r in watch.rows), 10, "READY 1/2, Error")
        # the restart is quick (a 1 s back-off) but once took over 20 s on a loaded CI machine
        wait_for(lambda: any(r[1:4] == ["2/2", "Running", "1"] for r in watch.rows), 40, "ready again")
        statuses = [r[1:3] for r in watch.rows]
        assert statuses.index(["1/2", "Error"]) < statuses.index(
            ["1/2", "Running"]
        )  # restarted, not ready yet
        assert not Path(f"/proc/{first}").exists()  # reaped: no zombie
        second = envoy_of(own_mesh, WEBAPP)
        assert second != first
        # the pod's admin port did not move: the Envoy answers where it did
        r = httpx.get(own_mesh.info["admin"]["webapp"] + "/stats?filter=^server.live$", timeout=5)
        assert r.text.strip() == "server.live: 1"
        # the official client reads the container's story
        api = client.CoreV1Api(config.new_client_from_config(own_mesh.kubeconfig))
        proxy = next(
            c
            for c in api.read_namespaced_pod(WEBAPP, "istioinaction").status.container_statuses
            if c.name == "istio-proxy"
        )
        assert proxy.restart_count == 1 and proxy.ready and proxy.state.running
        assert proxy.last_state.terminated.exit_code == 137 and proxy.last_state.terminated.reason == "Error"
        # dying again within the back-off window waits in CrashLoopBackOff, then restarts
        os.kill(second, signal.SIGKILL)
        wait_for(lambda: any(r[2] == "CrashLoopBackOff" for r in watch.rows if len(r) > 2), 10, "back-off")
        wait_for(lambda: any(r[1:4] == ["2/2", "Running", "2"] for r in watch.rows), 20, "restarted twice")
        others = [p for p in api.list_namespaced_pod("istioinaction").items if p.metadata.name != WEBAPP]
        assert others and all(c.restart_count == 0 for p in others for c in p.status.container_statuses)
        assert not alive(second) and not Path(f"/proc/{second}").exists()
    finally:
        watch.stop()
