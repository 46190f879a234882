"""Where the cluster's Prometheus is: `--prometheus URL` (one you already reach), or a
Service (`--prometheus-service NS/NAME[:PORT]`, by default istio-system/prometheus:9090, as
Istio's samples/addons install it) reached through a port-forward that meshtui manages like
the others (resolved to a ready pod and its target port, as kubectl does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from meshtui.kube.pod_port import ForwardTarget, TargetError, resolve
from meshtui.prometheus.client import PrometheusError

if TYPE_CHECKING:
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager, PortForward

DEFAULT_SERVICE = "istio-system/prometheus:9090"
INSTALL = (
    "install Istio's samples/addons/prometheus.yaml, or give --prometheus-service NS/NAME[:PORT] "
    "or --prometheus URL"
)


def service_target(text: str) -> ForwardTarget:
    """`NS/NAME[:PORT]` (port 9090 when not given) as a Service to forward to."""
    head, sep, port = text.partition(":")
    parts = head.split("/")
    if len(parts) != 2 or not all(parts) or (sep and not port):
        raise PrometheusError(f"--prometheus-service {text!r}: expected NAMESPACE/NAME[:PORT]")
    return ForwardTarget("svc", parts[0], parts[1], port or "9090")


class PrometheusSource(Protocol):
    async def url(self) -> str: ...

    async def forget(self) -> None: ...

    async def close(self) -> None: ...

    def describe(self) -> str: ...


class DirectPrometheus:
    def __init__(self, url: str) -> None:
        self._url = url.rstrip("/")

    async def url(self) -> str:
        return self._url

    async def forget(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def describe(self) -> str:
        return self._url


class ForwardedPrometheus:
    def __init__(self, target: KubeTarget, manager: ForwardManager, service: str = DEFAULT_SERVICE) -> None:
        self.target, self.manager = target, manager
        self.service = service_target(service)
        self._forward: PortForward | None = None

    def describe(self) -> str:
        return f"service {self.service.namespace}/{self.service.name}:{self.service.port}"

    async def url(self) -> str:
        if self._forward is None:
            try:
                where = await resolve(self.target, self.service)
            except TargetError as exc:
                why = f"no Prometheus: looked for {self.describe()}: {exc}; {INSTALL}"
                raise PrometheusError(why) from exc
            self._forward = await self.manager.acquire(where.namespace, where.pod, where.port)
        return self._forward.url

    async def forget(self) -> None:
        """After a failure: resolve the Service again (its pod may have been replaced)."""
        if self._forward is not None:
            forward, self._forward = self._forward, None
            await self.manager.release(forward)

    async def close(self) -> None:
        await self.forget()
