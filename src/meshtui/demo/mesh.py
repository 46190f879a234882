"""Bring up the demo mesh: apps, real Envoy sidecars and gateway, API server, load loop.

Run as `python -m meshtui.demo.mesh --ready-file PATH`: it writes a JSON file with
the kubeconfig path and admin URLs once everything answers, and stops every
process it started on SIGTERM/SIGINT (and, through PR_SET_PDEATHSIG, if it dies).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshtui.cleanup import guarded_folder
from meshtui.demo import apps, examples
from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.controller import Controller
from meshtui.demo.envoy_proc import EnvoyProcess
from meshtui.demo.pods import GATEWAY_HOST, NS, Pods, free_port
from meshtui.demo.prometheus import IMAGE as PROMETHEUS_IMAGE
from meshtui.demo.prometheus import POD as PROMETHEUS_POD
from meshtui.demo.prometheus import DemoPrometheus, prometheus_service
from meshtui.demo.simpod import Container, SimPod
from meshtui.demo.tls import ClientCert, ClusterCA, DemoMeshCA, ServerCert
from meshtui.demo.tracestore import JAEGER_IMAGE, TraceStore, tracing_service
from meshtui.demo.tracestore_api import QueryApi, collector_app
from meshtui.demo.xds.model import Service

if TYPE_CHECKING:
    from meshtui.demo.xds.istiod import Istiod

PODS = {
    "webapp": ("webapp-7685bcb84-hxpqj", NS, "10.10.0.18"),
    "catalog": ("catalog-6cf4b97d-5kkz8", NS, "10.10.0.17"),
    "istio-ingressgateway": ("istio-ingressgateway-5bf6c9887-vvvmj", "istio-system", "10.10.0.9"),
    "istiod": ("istiod-7d4f5d6c9-x8kqn", "istio-system", "10.10.0.8"),
    "jaeger": ("jaeger-76cd7c7566-4x9kd", "istio-system", "10.10.0.10"),
}
SERVICES = [Service("catalog", NS, 80, 3000), Service("webapp", NS, 80, 8080)]


@dataclass
class DemoMesh:
    rate: float = 3.0
    broken_tracing: str | None = None  # workload whose tracer posts to a wrong endpoint
    sampling: float = 10.0  # percent of requests traced, as the scenario's mesh config
    traces: TraceStore = field(default_factory=TraceStore)  # the demo's Jaeger
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="meshtui-demo-")))
    envoys: dict[str, EnvoyProcess] = field(default_factory=dict)  # the first pod of each workload
    runners: list[Any] = field(default_factory=list)
    api: SimApiServer = field(default_factory=SimApiServer)
    istiod: Istiod | None = None
    pods: Pods | None = None
    controller: Controller | None = None
    load_results: collections.Counter[int] = field(default_factory=collections.Counter)
    _load: asyncio.Task[None] | None = None
    cert: ServerCert | None = None
    ca: DemoMeshCA = field(default_factory=DemoMeshCA)
    prometheus: DemoPrometheus | None = None

    async def _app(self, app: Any) -> int:
        runner, port = await apps.serve(app)
        self.runners.append(runner)
        return port

    async def start(self) -> DemoMesh:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def _start(self) -> None:
        zipkin = await self._app(collector_app(self.traces))
        jaeger_query = await self._app(QueryApi(self.traces).app())
        from meshtui.demo.xds.istiod import Istiod

        # istiod answers before the Envoys start, as istio-agent's xDS proxy does on a pod
        istiod = self.istiod = Istiod()
        # the demo CA is istiod's CA (as in a default install): its root's expiry is citadel's gauge
        istiod.metrics.root_cert_expiry.set(self.ca.root_expiry)
        for svc in SERVICES:
            istiod.xds.services[svc.fqdn] = svc
        istiod.xds.refresh_gauges()  # pilot_services is known before any push, as istiod's first push context
        await istiod.start()
        pods = self.pods = Pods(
            self.workdir, self.api, self.ca, zipkin, istiod.grpc_port, self.broken_tracing, self.sampling
        )
        pods.istiod = istiod
        # the three Envoys start side by side
        spawned = [
            await pods.spawn(key, name=PODS[key][0], ip=PODS[key][2])
            for key in ("webapp", "catalog", "istio-ingressgateway")
        ]
        # the API server comes up while the Envoys start (it lists each pod once it is ready)
        # as kind's: a cluster CA, the API server's certificate from it, and an admin
        # user who authenticates with a client certificate (no token in the kubeconfig)
        cluster_ca = ClusterCA(self.workdir)
        cert = self.cert = cluster_ca.serving_cert()
        await self.api.start(ssl_context=cert.server_context())
        user = cluster_ca.client_cert()
        # files in the demo's folder, not -data: the kubernetes client copies -data to
        # temporary files that only its atexit removes, so a killed demo would leave them
        user_files = (self.workdir / "kubernetes-admin.crt", self.workdir / "kubernetes-admin.key")
        user_files[0].write_bytes(user.cert_pem)
        user_files[1].write_bytes(user.key_pem)
        user_files[1].chmod(0o600)
        self.kubeconfig.write_text(
            kubeconfig_yaml(self.api.url, None, ca_file=cert.ca_file, client_files=user_files)
        )
        started = await asyncio.gather(*(pods.ready(running) for running in spawned))
        for running in started:
            self.envoys[running.pod.workload] = running.envoy
            await self.api.add_pod(running.pod)
        # (every proxy was known to istiod before its Envoy started: the first EDS answers
        # already carried each other's endpoints, no endpoint push is due)
        self.controller = Controller(self.api, istiod, pods)
        await self.controller.add_deployments()
        name, ns, ip = PODS["istiod"]
        await self.api.add_pod(
            SimPod(
                name,
                ns,
                "istiod",
                ip,
                [Container("discovery", "docker.io/istio/pilot:1.17.8", [15010, 15012, 15014, 15017])],
                {15014: istiod.monitoring_port},
            )
        )
        name, ns, ip = PODS["jaeger"]
        ports = {16686: jaeger_query, 9411: zipkin}
        await self.api.add_pod(
            SimPod(name, ns, "jaeger", ip, [Container("jaeger", JAEGER_IMAGE, [*ports])], ports)
        )
        self.api.services[(ns, "tracing")] = tracing_service()
        self.api.services[("istio-system", "istio-ingressgateway")] = gateway_service()
        await self._start_prometheus(pods)
        self.jaeger_url = f"http://127.0.0.1:{jaeger_query}/jaeger"
        await istiod.wait_synced()
        gateway = self.envoys["istio-ingressgateway"]
        gw_url = f"http://127.0.0.1:{gateway.listeners['0.0.0.0_8080']}/api/catalog"
        if self.rate > 0:  # 0: no load loop of our own (`meshtui demo --rate 0`)
            self._load = asyncio.ensure_future(
                apps.load_loop(
                    gw_url, GATEWAY_HOST, self.rate, results=self.load_results, on=self.api.demo_load_on
                )
            )

    @property
    def kubeconfig(self) -> Path:
        return self.workdir / "kubeconfig"

    def describe(self) -> dict[str, Any]:
        return {
            "kubeconfig": str(self.kubeconfig),
            "api": self.api.url,
            "token": self.api.token,
            "ca_file": str(self.cert.ca_file) if self.cert else "",
            "admin": {k: e.admin_url for k, e in self.envoys.items()},
            "pods": {k: {"name": v[0], "namespace": v[1]} for k, v in PODS.items()},
            "istiod": f"http://127.0.0.1:{self.istiod.monitoring_port if self.istiod else 0}",
            "jaeger": getattr(self, "jaeger_url", ""),
            "prometheus": f"http://127.0.0.1:{self.prometheus.port}" if self.prometheus else "",
            "try": examples.write(self.workdir, self.kubeconfig),
            "pid": os.getpid(),
        }

    async def _start_prometheus(self, pods: Pods) -> None:
        """A real Prometheus scraping every pod's :15020, when Debian's is installed."""
        prom = DemoPrometheus(self.workdir)
        if not prom.start(free_port()):
            return
        self.prometheus = prom

        def targets() -> None:  # every pod the API server lists, as Kubernetes discovery finds them
            pods = [p for p in self.api.pods.values() if 15020 in p.forwards]
            prom.set_targets([(p.name, p.namespace, p.forwards[15020]) for p in pods])

        self.api.on_pods_changed.append(targets)
        targets()
        await self.api.add_pod(
            SimPod(
                PROMETHEUS_POD,
                "istio-system",
                "prometheus",
                "10.244.0.21",
                [Container("prometheus-server", PROMETHEUS_IMAGE, [9090])],
                {9090: prom.port},
                labels={"component": "server"},
            )
        )
        self.api.services[("istio-system", "prometheus")] = prometheus_service()

    async def stop(self) -> None:
        if self._load:
            self._load.cancel()
            with contextlib.suppress(BaseException):
                await self._load
        with contextlib.suppress(Exception):
            await self.api.stop()
        if self.controller:
            await self.controller.stop()
        if self.pods:
            await self.pods.stop_all()
        if self.istiod:
            with contextlib.suppress(Exception):
                await self.istiod.stop()
        for runner in self.runners:
            with contextlib.suppress(Exception):
                await runner.cleanup()
        if self.prometheus is not None:
            await asyncio.to_thread(self.prometheus.stop)


def kubeconfig_yaml(
    server: str,
    token: str | None,
    ca_pem: bytes | None = None,
    client: ClientCert | None = None,
    ca_file: Path | None = None,
    client_files: tuple[Path, Path] | None = None,
) -> str:
    """A kubeconfig for the demo cluster: its user has a bearer token, or a client
    certificate (`client-certificate-data` / `client-key-data` as kind writes it, or
    `client-certificate` / `client-key` files)."""
    # JSON is valid YAML; the kubernetes client and kubectl both read it.
    cluster: dict[str, str] = {"server": server}
    if ca_file:
        # a path, not -data: the kubernetes client copies -data to a temporary file that
        # only its atexit removes, so a killed demo would leave it behind
        cluster["certificate-authority"] = str(ca_file)
    elif ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    user: dict[str, str] = {}
    if client_files is not None:
        user["client-certificate"], user["client-key"] = str(client_files[0]), str(client_files[1])
    elif client is not None:
        user["client-certificate-data"] = base64.b64encode(client.cert_pem).decode()
        user["client-key-data"] = base64.b64encode(client.key_pem).decode()
    if token:
        user["token"] = token
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "meshtui-demo", "cluster": cluster}],
            "users": [{"name": "meshtui-demo", "user": user}],
            "contexts": [
                {
                    "name": "meshtui-demo",
                    "context": {"cluster": "meshtui-demo", "user": "meshtui-demo"},
                }
            ],
            "current-context": "meshtui-demo",
        },
        indent=1,
    )


async def serve(
    ready_file: Path | None,
    rate: float,
    broken_tracing: str | None,
    sampling: float = 10.0,
    workdir: Path | None = None,
) -> None:
    guard = None
    if workdir is None:  # on our own (`meshtui demo --no-tui`): our folder outlives no SIGKILL
        workdir, guard = guarded_folder("meshtui-demo-")
    mesh = DemoMesh(rate=rate, broken_tracing=broken_tracing, sampling=sampling, workdir=workdir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await mesh.start()
    try:
        info = mesh.describe()
        if ready_file:
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(info))
            tmp.replace(ready_file)
        else:
            print(f"meshtui demo: mesh is up (api {info['api']})", flush=True)
            print(f"export KUBECONFIG={info['kubeconfig']}", flush=True)
            print(f"meshtui --kubeconfig {info['kubeconfig']}", flush=True)
            for key, url in info["admin"].items():
                print(f"  {key:<22} envoy admin {url}", flush=True)
            print(f"  {'istiod':<22} monitoring  {info['istiod']}", flush=True)
            if info["prometheus"]:
                print(f"  {'prometheus':<22} query API   {info['prometheus']}", flush=True)
            print("Try, while the load loop runs:", flush=True)
            for command in info["try"]:
                print(f"  {command}", flush=True)
            print("Ctrl+C stops the mesh.", flush=True)
        await stop.wait()
    finally:
        await mesh.stop()
        if guard is not None:
            guard.close()
        else:
            shutil.rmtree(mesh.workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m meshtui.demo.mesh")
    p.add_argument("--ready-file", type=Path)
    p.add_argument("--rate", type=float, default=3.0)
    p.add_argument("--broken-tracing", default=None)
    p.add_argument("--sampling", type=float, default=10.0)
    p.add_argument("--workdir", type=Path, help="the folder to write in (the caller removes it)")
    args = p.parse_args(argv)
    if args.ready_file:
        from meshtui.demo.envoy_proc import _die_with_parent

        _die_with_parent()  # the TUI that started us is gone: so are we
    asyncio.run(serve(args.ready_file, args.rate, args.broken_tracing, args.sampling, args.workdir))
    return 0


def gateway_service() -> dict[str, Any]:
    """Istio's default ingress gateway Service (manifests/charts/gateways/istio-ingress):
    80 -> 8080 and 443 -> 8443 on the gateway pods, 15021 for its status; what
    `meshtui load /api/catalog --to svc/istio-system/istio-ingressgateway:80` reaches."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "istio-ingressgateway",
            "namespace": "istio-system",
            "labels": {"app": "istio-ingressgateway", "istio": "ingressgateway"},
        },
        "spec": {
            "type": "LoadBalancer",
            "clusterIP": "10.96.201.7",
            "selector": {"app": "istio-ingressgateway"},
            "ports": [
                {"name": "status-port", "port": 15021, "protocol": "TCP", "targetPort": 15021},
                {"name": "http2", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443},
            ],
        },
    }


if __name__ == "__main__":
    sys.exit(main())
