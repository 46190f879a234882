"""Pods that really come and go: each one an app (if it has one) and its own Envoy.

Starting a pod registers its proxy with the demo istiod, starts a real Envoy that
bootstraps by ADS, waits until istiod's listeners are bound, then lists the pod in the
API server and pushes the new endpoint (EDS) to the proxies that route to it. Stopping
one is the reverse: Terminating in the API, endpoint withdrawn, Envoy stopped, gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from meshtui.demo import apps, istio_metrics
from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.bootstrap import PROXY_IMAGE, ProxySpec
from meshtui.demo.envoy_proc import EnvoyProcess, EnvoyStartError
from meshtui.demo.kubelet import Kubelet
from meshtui.demo.simpod import Container, SimPod
from meshtui.demo.tls import DemoMeshCA
from meshtui.demo.xds.bootstrap_ads import ads_bootstrap
from meshtui.demo.xds.model import Outbound, Proxy

if TYPE_CHECKING:  # loaded by the mesh (grpc, the Envoy API) only when it starts
    from meshtui.demo.xds.istiod import Istiod

NS = "istioinaction"
CATALOG_FQDN = f"catalog.{NS}.svc.cluster.local"
WEBAPP_FQDN = f"webapp.{NS}.svc.cluster.local"
GATEWAY_HOST = "webapp.istioinaction.io"


def _standard_metrics(w: Workload, sa: str, spec: ProxySpec) -> istio_metrics.StandardMetrics:
    versions = {k: v.labels.get("version", "") for k, v in WORKLOADS.items()}
    me = istio_metrics.Peer(
        w.name, w.namespace, versions.get(w.name, ""), f"spiffe://cluster.local/ns/{w.namespace}/sa/{sa}"
    )
    service = f"{w.name}.{w.namespace}.svc.cluster.local" if w.inbound_port else "unknown"
    return istio_metrics.StandardMetrics(me, service, Path(spec.access_log), versions)


def free_port() -> int:
    """A loopback port for a listener istiod will push (LDS carries explicit ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Workload:
    name: str
    namespace: str
    app: Callable[[dict[str, Any]], web.Application] | None  # built per pod: its catalog URL, its annotations
    inbound_port: int | None = None
    image: str = ""
    kind: str = "sidecar"
    route_name: str = "80"
    outbound: list[Outbound] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)
    template_hash: str = field(default_factory=lambda: secrets.token_hex(5)[:9])


WORKLOADS = {
    "catalog": Workload(
        "catalog",
        NS,
        lambda ctx: apps.catalog_app(annotations=ctx["annotations"]),
        3000,
        "istioinaction/catalog:latest",
        labels={"version": "v1"},
        template_hash="6cf4b97d",  # the seed's pods' (catalog-6cf4b97d-5kkz8): a scale-up's pods match
    ),
    "webapp": Workload(
        "webapp",
        NS,
        apps.webapp_app,
        8080,
        "istioinaction/webapp:latest",
        outbound=[Outbound(CATALOG_FQDN, CATALOG_FQDN)],
        template_hash="7685bcb84",
    ),
    "istio-ingressgateway": Workload(
        "istio-ingressgateway",
        "istio-system",
        None,
        kind="router",
        route_name="http.8080",
        outbound=[Outbound(GATEWAY_HOST, WEBAPP_FQDN)],
        labels={"istio": "ingressgateway"},
        template_hash="5bf6c9887",
    ),
}


@dataclass
class RunningPod:
    pod: SimPod
    proxy: Proxy
    envoy: EnvoyProcess
    runner: web.AppRunner | None
    app_port: int | None
    listeners: list[str] = field(default_factory=list)  # the ones istiod's LDS push binds
    metrics: web.AppRunner | None = None  # its :15020 (demo/istio_metrics.py)


Announce = Callable[[SimPod], Awaitable[None]]


class Pods:
    def __init__(
        self,
        workdir: Path,
        api: SimApiServer,
        ca: DemoMeshCA,
        zipkin_port: int,
        grpc_port: int,
        broken_tracing: str | None = None,
        sampling: float = 10.0,
    ) -> None:
        self.workdir, self.api, self.ca, self.grpc_port = workdir, api, ca, grpc_port
        self.istiod: Istiod | None = None  # set before the first pod starts
        self.zipkin_port, self.broken_tracing = zipkin_port, broken_tracing
        self.sampling = sampling  # percent traced, as meshConfig defaultConfig.tracing.sampling
        self.running: dict[str, RunningPod] = {}  # by pod name
        self.kubelet = Kubelet(api, self._endpoints_changed)  # restarts a sidecar that dies
        self._ip = 30

    def of(self, workload: str) -> list[RunningPod]:
        return [r for r in self.running.values() if r.pod.workload == workload]

    def _new_name(self, w: Workload) -> str:
        return f"{w.name}-{w.template_hash}-{secrets.token_hex(3)[:5]}"

    async def start(
        self,
        workload: str,
        name: str | None = None,
        ip: str | None = None,
        announce: Announce | None = None,
        withdraw: Announce | None = None,
    ) -> RunningPod:
        """A pod of `workload`, ready. `announce` is told of the pod before its Envoy starts
        (a ReplicaSet's pod is in the API, Pending, before its containers run), `withdraw`
        of one that failed to start."""
        # A listener port picked free can be taken by another process before Envoy binds it
        # (two demos side by side in CI): the listener fails and the pod never gets ready.
        # The ReplicaSet controller would create another pod; so do we, with fresh ports.
        for attempt in range(3):
            running = await self.spawn(workload, name, ip, announce)
            try:
                return await self.ready(running)
            except EnvoyStartError:
                if withdraw is not None:
                    await withdraw(running.pod)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def spawn(
        self, workload: str, name: str | None = None, ip: str | None = None, announce: Announce | None = None
    ) -> RunningPod:
        """The pod's app and Envoy process, registered with istiod and started; `ready` waits."""
        w = WORKLOADS[workload]
        name = name or self._new_name(w)
        if ip is None:
            self._ip += 1
            ip = f"10.10.0.{self._ip}"
        labels = {"app": w.name, **w.labels}
        proxy = Proxy(
            ProxySpec(
                pod=name,
                namespace=w.namespace,
                pod_ip=ip,
                workload=w.name,
                kind=w.kind,
                inbound_port=w.inbound_port,
                route_name=w.route_name,
                zipkin_port=self.zipkin_port,
                sampling=self.sampling,
            ),
            labels=labels,
            inbound_listener=free_port() if w.inbound_port else None,
            outbound_listener=free_port() if w.outbound else None,
            outbound=list(w.outbound),
        )
        runner, app_port = None, None
        # the pod's annotations, one dict shared by the app and the API server's pod: a
        # `kubectl annotate` reaches the app at once (apps.py demo.meshtui/fault)
        annotations = {
            **({"sidecar.istio.io/status": '{"containers":["istio-proxy"]}'} if w.kind == "sidecar" else {}),
            # as Istio's injector writes them: where Prometheus scrapes the merged metrics
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "15020",
            "prometheus.io/path": "/stats/prometheus",
        }
        if w.app is not None:
            context: dict[str, Any] = {
                "url": f"http://127.0.0.1:{proxy.outbound_listener}" if proxy.outbound_listener else "",
                "annotations": annotations,
            }
            runner, app_port = await apps.serve(w.app(context))
            proxy.spec.app_port = app_port
        spec = proxy.spec
        sa = spec.workload if spec.kind == "sidecar" else f"{spec.workload}-service-account"
        spec.secrets = self.ca.issue(f"spiffe://cluster.local/ns/{spec.namespace}/sa/{sa}").envoy_secrets()
        if self.broken_tracing == workload:
            spec.zipkin_endpoint = "/zipkin/api/v1/spans"  # the scenario's broken bootstrap
        (self.workdir / name).mkdir(exist_ok=True)
        spec.access_log = str(self.workdir / name / "access.log")
        metrics_runner, metrics_port = await istio_metrics.serve(_standard_metrics(w, sa, spec))
        envoy = EnvoyProcess(name, ads_bootstrap(spec, self.grpc_port, labels), self.workdir / name)
        wanted = []
        if proxy.inbound_listener:
            wanted.append("virtualInbound")
        if proxy.outbound_listener:
            wanted.append("0.0.0.0_8080" if w.kind == "router" else "0.0.0.0_80")
        forwards: dict[int, int] = {}  # 15000 -> the admin port, once Envoy has one
        if w.inbound_port and app_port:
            forwards[w.inbound_port] = app_port
        if w.kind == "router" and proxy.outbound_listener:
            forwards[8080] = proxy.outbound_listener  # the gateway's HTTP port, for force-trace
        forwards[15020] = metrics_port  # istio-agent's merged metrics
        sidecar = Container("istio-proxy", PROXY_IMAGE, [15090] if w.kind == "sidecar" else [8080, 15021])
        containers = [Container(w.name, w.image, [w.inbound_port])] if w.inbound_port and w.image else []
        pod = SimPod(
            name,
            w.namespace,
            w.name,
            ip,
            [*containers, sidecar],
            forwards,
            labels={k: v for k, v in labels.items() if k != "app"},
            annotations=annotations,
        )
        if announce is not None:
            await announce(pod)
        self.register(proxy)
        try:
            envoy.spawn()
        except BaseException:
            if self.istiod is not None:
                self.istiod.xds.proxies.pop(proxy.id, None)
            if runner:
                await runner.cleanup()
            await metrics_runner.cleanup()
            raise
        running = self.running[name] = RunningPod(pod, proxy, envoy, runner, app_port, wanted, metrics_runner)
        return running

    def _endpoints_changed(self) -> None:
        if self.istiod is not None:
            self.istiod.xds.push_endpoints()

    def register(self, proxy: Proxy) -> None:
        """istiod learns the proxy (and signs its certificate) before the Envoy asks for config."""
        assert self.istiod is not None
        self.istiod.xds.proxies[proxy.id] = proxy
        self.istiod.metrics.counters.inc("citadel_server_csr_count")
        self.istiod.metrics.counters.inc("citadel_server_success_cert_issuance_count")

    async def ready(self, running: RunningPod) -> RunningPod:
        try:
            await running.envoy.wait_ready(running.listeners)
            running.pod.forwards[15000] = running.envoy.admin_port
        except BaseException:
            await self.stop(running.pod.name)
            raise
        self.kubelet.watch(running)
        return running

    async def stop(self, name: str, terminating: Callable[[SimPod], Any] | None = None) -> None:
        running = self.running.pop(name, None)
        if running is None:
            return
        await self.kubelet.forget(name)  # its Envoy's exit from here on is no death
        if self.istiod is not None:
            self.istiod.xds.proxies.pop(running.proxy.id, None)
        if terminating is not None:
            await terminating(running.pod)
        await asyncio.to_thread(running.envoy.stop)  # SIGTERM, then wait for it off the loop
        for runner in (running.runner, running.metrics):
            if runner is not None:
                with contextlib.suppress(Exception):
                    await runner.cleanup()

    async def stop_all(self) -> None:
        for name in list(self.running):
            with contextlib.suppress(Exception):
                await self.stop(name)
