"""Find Jaeger's query service in the cluster and port-forward to it.

Istio's addon (samples/addons/jaeger.yaml): service `tracing` in `istio-system`, port
80 -> the pod's 16686, pods labelled `app=jaeger`. The service's selector and target
port are read when the API server has the service; otherwise pods `app=jaeger` and
16686 are assumed, as the addon sets them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.kube.running import running

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from kubernetes.client import CoreV1Api

    from meshtui.kube.access import MeshAccess
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager, PortForward

QUERY_PORT = 16686
DEFAULT_SERVICE = ("istio-system", "tracing")


@dataclass(frozen=True)
class JaegerTarget:
    namespace: str
    service: str
    pod: str
    port: int

    def describe(self) -> str:
        return f"{self.namespace}/{self.service} -> pod {self.pod}:{self.port}"


def parse_service(text: str) -> tuple[str, str]:
    ns, sep, name = text.partition("/")
    if not sep or not ns or not name:
        raise JaegerError(f"--jaeger-service {text!r}: use NAMESPACE/NAME (istio-system/tracing)")
    return ns, name


def _find(core: CoreV1Api, namespace: str, service: str, fallback: bool) -> JaegerTarget:
    from kubernetes.client.exceptions import ApiException

    from meshtui.kube.config import describe

    selector, port = {"app": "jaeger"}, QUERY_PORT
    try:
        spec = core.read_namespaced_service(service, namespace).spec
        selector = dict((spec.selector if spec else None) or selector)
        for p in (spec.ports if spec else None) or []:
            # the query port: the one going to 16686, or the addon's `http-query`
            if p.target_port == QUERY_PORT or p.name == "http-query":
                port = p.target_port if isinstance(p.target_port, int) else QUERY_PORT
    except ApiException as exc:
        if exc.status != 404 or not fallback:
            raise JaegerError(f"cannot read service {namespace}/{service}: {describe(exc)}") from exc
    except Exception as exc:  # the kubernetes client raises many kinds; one line each
        raise JaegerError(f"cannot read service {namespace}/{service}: {describe(exc)}") from exc
    label = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    try:
        pods = core.list_namespaced_pod(namespace, label_selector=label, _request_timeout=10).items
    except Exception as exc:
        raise JaegerError(f"cannot list pods {label} in {namespace}: {describe(exc)}") from exc
    serving = running(pods)
    if not serving:
        raise JaegerError(
            f"no running Jaeger pod ({label}) in {namespace}: is Istio's tracing addon installed? "
            "(--jaeger-service NS/NAME or --jaeger-url URL point elsewhere)"
        )
    return JaegerTarget(namespace, service, serving[0].metadata.name, port)


async def find_jaeger(
    target: KubeTarget, namespace: str, service: str, fallback: bool = True
) -> JaegerTarget:
    """The Jaeger pod behind `namespace/service` (the kubernetes client blocks: a thread).
    With `fallback` (the default service, not one the user named) a cluster without the
    service is searched for pods `app=jaeger` directly."""
    return await asyncio.to_thread(_find, target.core(), namespace, service, fallback)


async def forward_jaeger(manager: ForwardManager, found: JaegerTarget) -> PortForward:
    """A port-forward to the pod's query port through the shared manager; probed first."""
    fwd = await manager.acquire(found.namespace, found.pod, found.port)
    if not await fwd.probe():
        reason = fwd.status.reason
        await manager.release(fwd)
        raise JaegerError(f"port-forward to {found.pod}:{found.port} failed: {reason}")
    return fwd


@dataclass(frozen=True)
class JaegerLink:
    """A connected Jaeger: the client, where it is, which API it speaks, and the forward
    to release when done (None for --jaeger-url)."""

    client: JaegerClient
    where: str
    api: str
    forward: PortForward | None = None

    def explain(self, error: str) -> str:
        """A failed read, with what the forward knows (a Jaeger pod gone, a forward down)."""
        if self.forward is None:
            return error
        from meshtui.kube.endpoint import explain_forward

        return explain_forward(self.forward, f"{self.forward.pod}:{self.forward.port}", error)


async def open_jaeger(
    access: MeshAccess | None, jaeger_url: str | None, jaeger_service: str | None
) -> JaegerLink:
    if jaeger_url:
        client = JaegerClient(jaeger_url)
        try:
            api = await client.detect()
        except BaseException:
            await client.aclose()
            raise
        return JaegerLink(client, jaeger_url, api.describe())
    if access is None:
        raise JaegerError("traces need a Kubernetes cluster (started with --admin) or --jaeger-url URL")
    ns, name = parse_service(jaeger_service) if jaeger_service else DEFAULT_SERVICE
    found = await find_jaeger(access.target, ns, name, fallback=not jaeger_service)
    fwd = await forward_jaeger(access.manager, found)
    client = JaegerClient(fwd.url)
    try:
        api = await client.detect()
    except BaseException:
        await client.aclose()
        await access.manager.release(fwd)
        raise
    return JaegerLink(client, found.describe(), api.describe(), fwd)


async def close_jaeger(link: JaegerLink, access: MeshAccess | None) -> None:
    await link.client.aclose()
    if link.forward is not None and access is not None:
        await access.manager.release(link.forward)
