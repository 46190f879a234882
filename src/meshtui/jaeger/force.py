"""Force-trace one request and tell which hops its trace lacks.

`x-envoy-force-trace: true` makes Envoy trace an internal request whatever the sampling,
and return its `x-request-id` in the response (Envoy's HTTP header manipulation docs);
Envoy tags every span with it (`guid:x-request-id`), so Jaeger finds the trace by tag.
By default the request goes to the ingress gateway (pods `istio=ingressgateway` in
istio-system, port 8080) through a port-forward, with the scenario's Host header.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from meshtui import http
from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.jaeger.model import JaegerFormatError, Trace
from meshtui.kube.running import running_pods
from meshtui.live import Freshness, LiveFeed

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.access import MeshAccess
    from meshtui.kube.portforward import PortForward

GATEWAY_NAMESPACE, GATEWAY_SELECTOR, GATEWAY_PORT = "istio-system", "istio=ingressgateway", 8080
DEFAULT_HOST, DEFAULT_PATH = "webapp.istioinaction.io", "/api/catalog"
GATEWAY_SERVICE = "istio-ingressgateway.istio-system"  # how Istio names the gateway's spans


@dataclass(frozen=True)
class ForcedRequest:
    url: str
    host: str
    status: int
    request_id: str


@dataclass(frozen=True)
class MissingHop:
    caller: str  # the service whose client span has no server span below it
    cluster: str  # its upstream_cluster tag
    service: str  # the service that should have answered (Istio's `name.namespace`)


async def send_forced(url: str, host: str, timeout: float = 10.0) -> ForcedRequest:
    async with http.async_client(url, timeout, base=False) as client:
        with http.failures(JaegerError, "the force-trace target", url):
            r = http.released(await client.get(url, headers={"host": host, "x-envoy-force-trace": "true"}))
    rid = r.headers.get("x-request-id")
    if not rid:
        raise JaegerError(
            f"{url} answered {r.status_code} without x-request-id: Envoy honours x-envoy-force-trace "
            "only for internal clients (is this address outside the gateway's internal ranges?)"
        )
    return ForcedRequest(url, host, r.status_code, rid)


async def gateway_url(access: MeshAccess, path: str) -> tuple[str, PortForward]:
    """A port-forward to the ingress gateway's 8080 (released by the caller) and the URL."""
    running = await running_pods(
        access.target,
        GATEWAY_NAMESPACE,
        GATEWAY_SELECTOR,
        JaegerError,
        "cannot list the ingress gateway pods",
    )
    if not running:
        raise JaegerError(f"no running ingress gateway ({GATEWAY_SELECTOR} in {GATEWAY_NAMESPACE})")
    fwd = await access.manager.acquire(GATEWAY_NAMESPACE, running[0].metadata.name, GATEWAY_PORT)
    return fwd.url + (path if path.startswith("/") else "/" + path), fwd


def service_of_cluster(cluster: str) -> str | None:
    """`outbound|80||catalog.istioinaction.svc.cluster.local` -> `catalog.istioinaction`."""
    parts = cluster.split("|")
    if len(parts) != 4 or parts[0] != "outbound" or ".svc." not in parts[3]:
        return None
    name, ns = parts[3].split(".")[:2]
    return f"{name}.{ns}"


def missing_hops(trace: Trace) -> list[MissingHop]:
    """Spans calling an in-mesh service (`upstream_cluster` outbound|...) with no span of
    that service below them: that service's sidecar sent nothing."""
    children: dict[str, set[str]] = {}
    for s in trace.spans:
        for r in s.references:
            children.setdefault(r.span_id.lower().lstrip("0"), set()).add(s.service)
    out = []
    for s in trace.spans:
        cluster = s.tag("upstream_cluster") or ""
        target = service_of_cluster(cluster)
        if not target or target == s.service:
            continue
        if target not in children.get(s.span_id.lower().lstrip("0"), set()):
            out.append(MissingHop(s.service, cluster, target))
    return out


@dataclass(frozen=True)
class WaitStep:
    """One tick of the wait: seconds left, and the trace once Jaeger has it."""

    left: float
    trace: Trace | None
    done: bool
    error: str = ""  # Jaeger did not answer this time (the wait goes on)
    freshness: Freshness = field(default_factory=Freshness)


class TraceWait(LiveFeed[WaitStep]):
    """Polls Jaeger until the request's trace appears, then until no new span came for
    `settle` seconds (Envoys flush their spans every 5 s, each on its own clock); the
    consumer stops at the step that says `done` (found and settled, or out of time)."""

    errors: ClassVar[tuple[type[Exception], ...]] = (JaegerError, JaegerFormatError)

    def __init__(
        self,
        client: JaegerClient,
        request_id: str,
        timeout: float = 30.0,
        poll: float = 1.0,
        settle: float = 6.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(poll)
        self.client, self.request_id, self.settle, self.clock = client, request_id, settle, clock
        self.deadline = clock() + timeout
        self.services: list[str] | None = None
        self.trace: Trace | None = None
        self._stable_since = 0.0

    def _left(self) -> float:
        return max(0.0, self.deadline - self.clock())

    async def poll(self, started: float) -> WaitStep:
        now = self.clock()
        if self.services is None or self.trace is None:
            try:
                names = await self.client.services()
                self.services = [GATEWAY_SERVICE] + [n for n in names if n != GATEWAY_SERVICE]
            except JaegerError:
                self.services = None
        found = await self.client.find_by_request_id(self.request_id, services=self.services, lookback="15m")
        if found is not None and (self.trace is None or len(found.spans) > len(self.trace.spans)):
            self.trace, self._stable_since = found, now
        settled = self.trace is not None and now - self._stable_since >= self.settle
        left = self._left()
        return WaitStep(left, self.trace, settled or left <= 0)

    def failed(self, reason: str) -> WaitStep:
        left = self._left()
        return WaitStep(left, self.trace, left <= 0, error=reason)


async def why_missing(access: MeshAccess, hop: MissingHop) -> str | None:
    """What the missing workload's sidecar says about its tracer (the Config tab's tracing
    health): e.g. the scenario's collector endpoint `/zipkin/api/v1/spans`."""
    from meshtui.envoy.admin import AdminError, EnvoyAdmin
    from meshtui.envoy.tracing_health import read_tracing_health
    from meshtui.kube.endpoint import ENVOY_ADMIN_PORT

    name, _, ns = hop.service.partition(".")
    try:
        running = await running_pods(access.target, ns, f"app={name}", JaegerError, "listing pods")
    except JaegerError:
        return None
    if not running:
        return f"no running pod app={name} in {ns}"
    pod = running[0].metadata.name
    fwd = await access.manager.acquire(ns, pod, ENVOY_ADMIN_PORT)
    admin = EnvoyAdmin(fwd.url)
    try:
        health = await read_tracing_health(admin)
    except (AdminError, ValueError):
        return None
    finally:
        await admin.aclose()
        await access.manager.release(fwd)
    if not health.problems:
        return None
    return f"{pod}'s tracer: " + "; ".join(health.problems)
