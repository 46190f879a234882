"""Spans as Envoy's Zipkin tracer posts them, for the trace store and the Traces place."""

from __future__ import annotations

import time

TRACE = "5b8efff798038103d269b633813fc60c"


def envoy_spans(trace_id: str = TRACE, rid: str = "rid-1", status: str = "200", t0: int | None = None):
    """Zipkin v2 spans as Envoy's tracer posts them for gateway -> webapp -> catalog
    (Istio 1.17 tags, 128-bit trace ids, no shared span context)."""
    t0 = t0 or int(time.time() * 1e6) - 2_000_000

    def span(sid, parent, name, kind, svc, start, dur, extra=None):
        tags = {
            "component": "proxy",
            "guid:x-request-id": rid,
            "http.method": "GET",
            "http.status_code": status,
            "node_id": f"sidecar~10.10.0.1~{svc}",
            "istio.canonical_service": svc.split(".")[0],
            **(extra or {}),
        }
        if status.startswith("5"):
            tags["error"] = "true"
        z = {
            "traceId": trace_id,
            "id": sid,
            "name": name,
            "kind": kind,
            "timestamp": t0 + start,
            "duration": dur,
            "localEndpoint": {"serviceName": svc, "ipv4": "10.10.0.1"},
            "tags": tags,
        }
        if parent:
            z["parentId"] = parent
        return z

    return [
        span("a000000000000001", None, "webapp.istioinaction.io:80/*", "CLIENT",
             "istio-ingressgateway.istio-system", 0, 9000, {"upstream_cluster": "outbound|80||webapp"}),
        span("b000000000000002", "a000000000000001", "webapp.istioinaction.svc.cluster.local:80/*",
             "SERVER", "webapp.istioinaction", 500, 8000),
        span("c000000000000003", "b000000000000002", "catalog.istioinaction.svc.cluster.local:80/*",
             "CLIENT", "webapp.istioinaction", 1000, 6000,
             {"upstream_cluster": "outbound|80||catalog.istioinaction.svc.cluster.local"}),
        span("d000000000000004", "c000000000000003", "catalog.istioinaction.svc.cluster.local:80/*",
             "SERVER", "catalog.istioinaction", 1500, 5000),
    ]  # fmt: skip
