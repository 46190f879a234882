"""Force-trace one request and tell which hops its trace lacks.

`x-envoy-force-trace: true` makes Envoy trace an internal request whatever the sampling,
and return its `x-request-id` in the response (Envoy's HTTP header manipulation docs);
Envoy tags every span with it (`guid:x-request-id`), so Jaeger finds the trace by tag.
By default the request goes to the ingress gateway (pods `istio=ingressgateway` in
istio-system, port 8080) through a port-forward, with the scenario's Host header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from meshtui.jaeger.client import JaegerClient, JaegerError
from meshtui.jaeger.model import Trace

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
    try:
        async with httpx.AsyncClient(timeout=timeout) as http:
            r = await http.get(url, headers={"host": host, "x-envoy-force-trace": "true"})
    except httpx.HTTPError as exc:
        raise JaegerError(f"force-trace request to {url} failed: {type(exc).__name__} {exc}"[:200]) from exc
    rid = r.headers.get("x-request-id")
    if not rid:
        raise JaegerError(
            f"{url} answered {r.status_code} without x-request-id: Envoy honours x-envoy-force-trace "
            "only for internal clients (is this address outside the gateway's internal ranges?)"
        )
    return ForcedRequest(url, host, r.status_code, rid)


async def gateway_url(access: Any, path: str) -> tuple[str, Any]:
    """A port-forward to the ingress gateway's 8080 (released by the caller) and the URL."""
    from meshtui.kube.config import describe

    def pods() -> list[Any]:
        items = (
            access.target.core().list_namespaced_pod(GATEWAY_NAMESPACE, label_selector=GATEWAY_SELECTOR).items
        )
        return [p for p in items if p.status and p.status.phase == "Running"]

    try:
        running = await asyncio.to_thread(pods)
    except Exception as exc:
        raise JaegerError(f"cannot list the ingress gateway pods: {describe(exc)}") from exc
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


async def wait_for_trace(
    client: JaegerClient,
    request_id: str,
    timeout: float = 30.0,
    poll: float = 1.0,
    settle: float = 6.0,
    clock: Any = time.monotonic,
) -> AsyncIterator[WaitStep]:
    """Poll Jaeger until the request's trace appears, then until no new span came for
    `settle` seconds (Envoys flush their spans every 5 s, each on its own clock)."""
    deadline = clock() + timeout
    services = None
    trace: Trace | None = None
    stable_since = 0.0
    while True:
        now = clock()
        if services is None or trace is None:
            try:
                names = await client.services()
                services = [GATEWAY_SERVICE] + [n for n in names if n != GATEWAY_SERVICE]
            except JaegerError:
                services = None
        found = await client.find_by_request_id(request_id, services=services, lookback="15m")
        if found is not None and (trace is None or len(found.spans) > len(trace.spans)):
            trace, stable_since = found, now
        done = trace is not None and now - stable_since >= settle
        left = max(0.0, deadline - now)
        yield WaitStep(left, trace, done or left <= 0)
        if done or left <= 0:
            return
        await asyncio.sleep(poll)


async def why_missing(access: Any, hop: MissingHop) -> str | None:
    """What the missing workload's sidecar says about its tracer (the Config tab's tracing
    health): e.g. the scenario's collector endpoint `/zipkin/api/v1/spans`."""
    from meshtui.envoy.admin import AdminError, EnvoyAdmin
    from meshtui.envoy.tracing_health import read_tracing_health
    from meshtui.kube.endpoint import ENVOY_ADMIN_PORT

    name, _, ns = hop.service.partition(".")

    def pods() -> list[Any]:
        items = access.target.core().list_namespaced_pod(ns, label_selector=f"app={name}").items
        return [p for p in items if p.status and p.status.phase == "Running"]

    try:
        running = await asyncio.to_thread(pods)
    except Exception:
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
