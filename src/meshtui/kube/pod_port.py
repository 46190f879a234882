"""A Service's, Deployment's or pod's port, as a pod port behind a port-forward that
meshtui manages like the others: where `meshtui load PATH --to KIND/NS/NAME:PORT` sends its
requests, and where the Mesh place asks Prometheus (`--prometheus-service NS/NAME:PORT`).

Resolved as `kubectl port-forward` does (k8s.io/kubectl pkg/cmd/portforward:
`AttachablePodForObjectFn`, then `translateServicePortToTargetPort`): a Service's port (by
number or name) becomes its targetPort (a number, or a container port's name in the chosen
pod; none: the same number), on the first running pod its selector matches (a Deployment's
selector likewise); a pod's port is a number or one of its containers' named ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshtui.kube.running import running_pods

if TYPE_CHECKING:
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager

KINDS = {
    "svc": "svc",
    "service": "svc",
    "deploy": "deploy",
    "deployment": "deploy",
    "pod": "pod",
    "po": "pod",
}


class TargetError(Exception):
    """The target cannot be reached; one line."""


@dataclass(frozen=True)
class ForwardTarget:
    kind: str  # svc, deploy, pod
    namespace: str
    name: str
    port: str  # a number or a port's name

    @classmethod
    def parse(cls, text: str) -> ForwardTarget:
        """`svc/NS/NAME:PORT`, `deploy/NS/NAME:PORT` or `pod/NS/NAME:PORT`."""
        head, _, port = text.rpartition(":")
        parts = head.split("/")
        if len(parts) != 3 or not all(parts) or not port or parts[0].lower() not in KINDS:
            forms = "svc/NAMESPACE/NAME:PORT, deploy/NAMESPACE/NAME:PORT or pod/NAMESPACE/NAME:PORT"
            raise TargetError(f"--to {text!r}: expected {forms}")
        return cls(KINDS[parts[0].lower()], parts[1], parts[2], port)

    @property
    def shown(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}:{self.port}"


def where_to(target: str, to: str | None) -> ForwardTarget | None:
    """Check what a user typed: a full URL, or a path with `--to` (parsed). TargetError else."""
    if to:
        forward = ForwardTarget.parse(to)
        if not target.startswith("/"):
            raise TargetError(f"with --to, give a path (/api/catalog), not {target!r}")
        return forward
    parts = urllib.parse.urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(
            f"{target!r}: give a URL (http://HOST:PORT/PATH), or a path with --to svc/NS/NAME:PORT"
        )
    return None


def header(text: str) -> tuple[str, str]:
    """`Name: value`, as curl's -H."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise TargetError(f"-H {text!r}: expected 'Name: value'")
    return name.strip(), value.strip()


@dataclass(frozen=True)
class PodPort:
    namespace: str
    pod: str
    port: int


def _container_port(pod: Any, port: str) -> int | None:
    if port.isdigit():
        return int(port)
    for container in pod.spec.containers or []:
        for p in container.ports or []:
            if p.name == port:
                return int(p.container_port)
    return None


async def resolve(target: KubeTarget, to: ForwardTarget) -> PodPort:
    """The pod and port a forward for `to` goes to (blocking client calls in threads)."""
    from meshtui.kube.config import describe

    def read(what: str) -> Any:
        if what == "svc":
            return target.core().read_namespaced_service(to.name, to.namespace, _request_timeout=10)
        if what == "deploy":
            from kubernetes import client

            apps = client.AppsV1Api(target.api_client())
            return apps.read_namespaced_deployment(to.name, to.namespace, _request_timeout=10)
        return target.core().read_namespaced_pod(to.name, to.namespace, _request_timeout=10)

    try:
        obj = await asyncio.to_thread(read, to.kind)
    except Exception as exc:  # every kubernetes client failure becomes one line
        raise TargetError(f"{to.shown}: {describe(exc, target.shown)}") from exc
    if to.kind == "pod":
        if obj.metadata.deletion_timestamp is not None or (obj.status.phase or "") != "Running":
            raise TargetError(f"{to.shown}: the pod is not running ({obj.status.phase})")
        return PodPort(to.namespace, to.name, _port_in(obj, to.port, to))
    if to.kind == "deploy":
        labels = (obj.spec.selector.match_labels or {}) if obj.spec.selector else {}
        pod = await _first_pod(target, to, labels)
        return PodPort(to.namespace, pod.metadata.name, _port_in(pod, to.port, to))
    service_port = next(
        (p for p in obj.spec.ports or [] if str(p.port) == to.port or (p.name and p.name == to.port)), None
    )
    if service_port is None:
        ports = ", ".join(f"{p.port}" + (f" ({p.name})" if p.name else "") for p in obj.spec.ports or [])
        raise TargetError(f"{to.shown}: the service has no port {to.port} (it has {ports or 'none'})")
    pod = await _first_pod(target, to, obj.spec.selector or {})
    target_port = service_port.target_port
    if target_port in (None, 0, ""):
        target_port = service_port.port
    return PodPort(to.namespace, pod.metadata.name, _port_in(pod, str(target_port), to))


async def _first_pod(target: KubeTarget, to: ForwardTarget, labels: dict[str, str]) -> Any:
    if not labels:
        raise TargetError(f"{to.shown}: it selects no pods (no selector)")
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    pods = await running_pods(target, to.namespace, selector, TargetError, to.shown)
    if not pods:
        raise TargetError(f"{to.shown}: no running pod matches {selector}")
    return pods[0]


def _port_in(pod: Any, port: str, to: ForwardTarget) -> int:
    found = _container_port(pod, port)
    if found is None:
        raise TargetError(f"{to.shown}: pod {pod.metadata.name} has no container port named {port!r}")
    return found


@contextlib.asynccontextmanager
async def forwarded(
    target: KubeTarget, manager: ForwardManager, to: ForwardTarget
) -> AsyncIterator[tuple[str, PodPort]]:
    """`http://127.0.0.1:PORT` of a forward to `to`'s pod port, held for the block (shared
    with any other view on the same pod port), and where it goes."""
    where = await resolve(target, to)
    fwd = await manager.acquire(where.namespace, where.pod, where.port)
    try:
        if not await fwd.probe():
            raise TargetError(f"port-forward to {where.pod}:{where.port} failed: {fwd.status.reason}")
        yield fwd.url, where
    finally:
        await manager.release(fwd)
