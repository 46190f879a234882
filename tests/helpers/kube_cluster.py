"""A simulated API server of one's own for kubeconfig tests: its own CA and serving
certificate (for chosen names), one pod whose 15000 is the demo catalog's Envoy admin,
and a kubeconfig written as the test wants it (tls-server-name, proxy-url, exec, ...)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.simpod import Container, SimPod
from meshtui.demo.tls import ClusterCA

POD, NS = "catalog-6cf4b97d-abcde", "istioinaction"


@dataclass
class Cluster:
    api: SimApiServer
    ca: ClusterCA
    loop: asyncio.AbstractEventLoop
    directory: Path

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def kubeconfig(
        self,
        host: str = "127.0.0.1",
        cluster: dict[str, Any] | None = None,
        user: dict[str, Any] | None = None,
        name: str = "kubeconfig",
    ) -> str:
        """A kubeconfig for this cluster at https://HOST:PORT; the user defaults to a client
        certificate; `cluster` adds keys to the cluster entry (tls-server-name, proxy-url)."""
        if user is None:
            cert = self.ca.client_cert()
            user = {
                "client-certificate-data": base64.b64encode(cert.cert_pem).decode(),
                "client-key-data": base64.b64encode(cert.key_pem).decode(),
            }
        entry = {
            "server": f"https://{host}:{self.api.port}",
            "certificate-authority-data": base64.b64encode(self.ca.ca_pem).decode(),
            **(cluster or {}),
        }
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": entry}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
        path = self.directory / name
        path.write_text(json.dumps(doc))
        return str(path)


@contextlib.contextmanager
def tls_cluster(tmp_path: Path, mesh: Any, names: Sequence[str] = ("127.0.0.1",)) -> Iterator[Cluster]:
    """The API server on 127.0.0.1 with a certificate for `names` only; stopped on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    api = SimApiServer()
    ca = ClusterCA(tmp_path)
    cluster = Cluster(api, ca, loop, tmp_path)
    try:
        cluster.run(api.start(ssl_context=ca.serving_cert(names).server_context()))
        admin = int(mesh.info["admin"]["catalog"].rsplit(":", 1)[1])
        pod = SimPod(
            POD,
            NS,
            "catalog",
            "10.244.0.9",
            [Container("istio-proxy", "istio/proxyv2:1.17.8")],
            {15000: admin},
        )
        cluster.run(api.add_pod(pod))
        yield cluster
    finally:
        with contextlib.suppress(Exception):
            cluster.run(api.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def ready_through_a_forward(target: Any, port: int = 15000) -> str:
    """Envoy's /ready through a port-forward of this target to POD, the forward closed after."""
    import httpx

    from meshtui.kube.portforward import ForwardManager

    manager = ForwardManager(target)
    try:
        fwd = await manager.acquire(NS, POD, port)
        async with httpx.AsyncClient(trust_env=False) as c:
            return (await c.get(fwd.url + "/ready", timeout=10)).text.strip()
    finally:
        await manager.close()
