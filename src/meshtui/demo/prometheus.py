"""A real Prometheus for the demo (Debian's `prometheus`, when installed), as the seed's
`samples/addons` install has one: it scrapes every demo pod's :15020/stats/prometheus
(demo/istio_metrics.py) every 5 s, and stands behind a `prometheus` Service in
istio-system (port 9090), reached through a port-forward like istiod and Jaeger.

Targets come from a file (`file_sd_configs`) the demo rewrites as pods come and go, with
the `namespace` and `pod` labels Istio's `kubernetes-pods` job gives them. Without the
binary there is no Prometheus pod and no Service: the Mesh place then says what it
looked for and how to install it, and nothing else in the demo changes.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from meshtui.demo.envoy_proc import _die_with_parent

SCRAPE_INTERVAL_S = 5
IMAGE = "prom/prometheus:v2.41.0"  # the one samples/addons/prometheus.yaml of Istio 1.17 runs
POD = "prometheus-7b8d9c6f5-q2x9k"


class DemoPrometheus:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir / "prometheus"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._targets: list[dict[str, Any]] | None = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("prometheus")

    def start(self, port: int) -> bool:
        """Start it on 127.0.0.1:`port`; False when Prometheus is not installed."""
        binary = self.binary()
        if binary is None:
            return False
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.set_targets([])
        config = self.workdir / "prometheus.yml"
        config.write_text(
            f"global:\n  scrape_interval: {SCRAPE_INTERVAL_S}s\n  evaluation_interval: {SCRAPE_INTERVAL_S}s\n"
            "scrape_configs:\n"
            "  - job_name: kubernetes-pods\n"
            "    metrics_path: /stats/prometheus\n"
            "    file_sd_configs:\n"
            f"      - files: ['{self.workdir / 'targets.json'}']\n"
            "        refresh_interval: 5s\n"
        )
        self.port = port
        log = open(self.workdir / "prometheus.log", "ab")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=6h",
                ],
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,  # the demo killed: Prometheus goes too
            )
        finally:
            log.close()
        return True

    def set_targets(self, pods: list[tuple[str, str, int]]) -> None:
        """(pod, namespace, its 15020's loopback port) for every running pod."""
        targets = [
            {"targets": [f"127.0.0.1:{port}"], "labels": {"namespace": ns, "pod": name}}
            for name, ns, port in sorted(pods)
        ]
        if targets == self._targets:
            return
        self._targets = targets
        path = self.workdir / "targets.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(targets))
        tmp.replace(path)  # whole, never half-written, when Prometheus reads it

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)


def prometheus_service() -> dict[str, Any]:
    """samples/addons/prometheus.yaml's Service: port 9090 to the server's 9090."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "prometheus",
            "namespace": "istio-system",
            "labels": {"app": "prometheus", "component": "server"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.88.21",
            "selector": {"app": "prometheus", "component": "server"},
            "ports": [{"name": "http", "port": 9090, "protocol": "TCP", "targetPort": 9090}],
        },
    }
