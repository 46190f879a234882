"""A real Envoy with ~50,000 stats under load, for the benchmarks.

It is shaped like a big sidecar: `catalog-v1..v5` plus hundreds of `svc-N` outbound
clusters (`outbound|80||NAME.bench.svc.cluster.local`), all pointing at one loopback
upstream, and a load loop that keeps a few of them moving. Optionally it is served
as a pod by the simulated API server, so the app reaches it through a port-forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

from loadgen import Ok
from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.bootstrap import PROXY_IMAGE, ProxySpec, Route, build
from meshtui.demo.envoy_proc import EnvoyProcess
from meshtui.demo.mesh import kubeconfig_yaml
from meshtui.demo.simpod import Container, SimPod

CATALOG_PREFIX = "cluster.outbound|80||catalog"  # keeps ~500 stats: the filtered benchmark


def serve_ok() -> ThreadingHTTPServer:
    """A loopback upstream answering 200 "ok" in this process (stopped with .shutdown())."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def cluster_names(n_clusters: int) -> list[str]:
    names = [f"catalog-v{i}" for i in range(1, 6)]
    names += [f"svc-{i}" for i in range(n_clusters - len(names))]
    return names


@dataclass
class BigMesh:
    n_clusters: int = 470
    rate: float = 40.0
    envoy: EnvoyProcess | None = None
    kubeconfig: Path | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _traffic: subprocess.Popen[str] | None = None

    def start(self, with_api_server: bool = False, workdir: Path | None = None) -> BigMesh:
        upstream = self._serve_upstream()
        routes = [
            Route(f"{n}.bench.svc.cluster.local", f"outbound|80||{n}.bench.svc.cluster.local", upstream)
            for n in cluster_names(self.n_clusters)
        ]
        spec = ProxySpec(
            pod="bench-sidecar-0",
            namespace="bench",
            pod_ip="10.10.9.9",
            workload="bench",
            routes=routes,
            stats_flush_interval="5s",  # Istio's default, as on a real big sidecar
        )
        self.envoy = EnvoyProcess("bench", build(spec)).start(timeout=60)
        self._load()
        if with_api_server:
            self._start_api_server(workdir or self.envoy.workdir)
        return self

    @property
    def admin_url(self) -> str:
        assert self.envoy is not None
        return self.envoy.admin_url

    def stats_body(self) -> str:
        return httpx.get(self.admin_url + "/stats", timeout=30).text

    def _serve_upstream(self) -> int:
        """The upstream and, once Envoy is up, the load loop run in a process of their own
        (bench/loadgen.py): never in the process of an app under test."""
        self._traffic = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("loadgen.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._traffic.stdout is not None
        return int(self._traffic.stdout.readline())

    def _load(self) -> None:
        """Requests through the outbound listener to a rotating handful of clusters (loopback only)."""
        assert self.envoy is not None and self._traffic is not None and self._traffic.stdin is not None
        port = self.envoy.listeners["0.0.0.0_80"]
        hosts = [f"{n}.bench.svc.cluster.local" for n in cluster_names(self.n_clusters)[:25]]
        self._traffic.stdin.write(f"{port} {self.rate} {','.join(hosts)}\n")
        self._traffic.stdin.flush()

    def _start_api_server(self, workdir: Path) -> None:
        assert self.envoy is not None
        ready = threading.Event()
        api = SimApiServer()
        pod = SimPod(
            "bench-sidecar-0",
            "bench",
            "bench",
            "10.10.9.9",
            [Container("app", "bench:latest", [8080]), Container("istio-proxy", PROXY_IMAGE)],
            {15000: self.envoy.admin_port},
        )

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop

            async def main() -> None:
                await api.add_pod(pod)
                await api.start()
                ready.set()
                while not self._stop.is_set():
                    await asyncio.sleep(0.2)
                await api.stop()

            loop.run_until_complete(main())
            loop.close()

        t = threading.Thread(target=run, daemon=True)
        t.start()
        self._threads.append(t)
        ready.wait(10)
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(kubeconfig_yaml(api.url, api.token))

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=5)
        if self._traffic is not None:
            with contextlib.suppress(OSError, ValueError):
                self._traffic.stdin.close()  # type: ignore[union-attr]
            try:
                self._traffic.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._traffic.kill()
                self._traffic.wait(timeout=5)
        if self.envoy:
            self.envoy.stop()


@contextlib.contextmanager
def big_mesh(n_clusters: int = 470, with_api_server: bool = False) -> Iterator[BigMesh]:
    mesh = BigMesh(n_clusters)
    try:
        yield mesh.start(with_api_server)
    finally:
        mesh.stop()
