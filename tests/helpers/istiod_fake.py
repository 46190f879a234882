"""A test-local istiod monitoring port (15014) on loopback, served from the real captures,
and a simulated API server that has it as pod istio-system/istiod-* (forwards to it).

Only the Kubernetes API server and istiod are simulated (as the project's bar allows):
the port-forward, the HTTP client and the parsers in between are the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from helpers.loopback import loopback_http
from helpers.mesh import FIXTURES
from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.mesh import kubeconfig_yaml
from meshtui.demo.simpod import Container, SimPod

SEED_METRICS = FIXTURES / "seed" / "istiod-metrics.txt"
SYNCZ = FIXTURES / "upstream" / "kiali" / "registry-syncz.json"
CONFIG_DUMP = FIXTURES / "upstream" / "istio" / "productpage-v1-c7765c886-v99jb.json"


@dataclass
class FakeIstiod:
    """What the fake 15014 answers; tests change the bodies while it runs."""

    metrics: str = field(default_factory=lambda: SEED_METRICS.read_text())
    syncz: str = field(default_factory=lambda: SYNCZ.read_text())
    config_dump: str = field(default_factory=lambda: CONFIG_DUMP.read_text())
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def bump(self, name: str, by: float) -> None:
        """Add `by` to every sample line of series `name` (a counter moving)."""
        out = []
        for line in self.metrics.splitlines():
            if line.startswith(name + "{") or line.startswith(name + " "):
                head, _, value = line.rpartition(" ")
                line = f"{head} {float(value) + by:g}"
            out.append(line)
        self.metrics = "\n".join(out) + "\n"


@contextlib.contextmanager
def fake_istiod() -> Iterator[FakeIstiod]:
    state = FakeIstiod()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            url = urlparse(self.path)
            state.requests.append(self.path)
            if url.path == "/metrics":
                body, kind = state.metrics, "text/plain; version=0.0.4"
            elif url.path == "/debug/syncz":
                body, kind = state.syncz, "application/json"
            elif url.path == "/debug/config_dump" and parse_qs(url.query).get("proxyID"):
                body, kind = state.config_dump, "application/json"
            else:
                self.send_error(404)
                return
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    with loopback_http(Handler) as url:
        state.url = url
        yield state


@dataclass
class SimCluster:
    api: SimApiServer
    kubeconfig: Path
    loop: asyncio.AbstractEventLoop

    def run(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)  # type: ignore[arg-type]


@contextlib.contextmanager
def sim_cluster(tmp_path: Path, istiod_ports: dict[str, int]) -> Iterator[SimCluster]:
    """A simulated API server (own thread and loop) with one istiod pod per entry."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = SimApiServer()
    try:
        asyncio.run_coroutine_threadsafe(api.start(), loop).result(10)
        for name, port in istiod_ports.items():
            pod = SimPod(
                name=name,
                namespace="istio-system",
                workload="istiod",
                ip="10.244.0.5",
                containers=[Container("discovery", "docker.io/istio/pilot:1.17.8", [15010, 15012, 15014])],
                forwards={15014: port},
            )
            asyncio.run_coroutine_threadsafe(api.add_pod(pod), loop).result(10)
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(kubeconfig_yaml(api.url, api.token))
        yield SimCluster(api, kubeconfig, loop)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(api.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])
