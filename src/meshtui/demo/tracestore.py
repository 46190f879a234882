"""The demo's Jaeger: a Zipkin v2 collector that stores spans in Jaeger's model.

The demo's Envoys post Zipkin v2 JSON to `/api/v2/spans` (Istio 1.17's bootstrap tracer).
Jaeger v2 takes them with the OpenTelemetry Zipkin receiver and stores them through the
Jaeger translator; the conversion here follows both:
opentelemetry-collector-contrib pkg/translator/zipkin/zipkinv2/to_translator.go
(`localEndpoint.serviceName` -> resource `service.name`; `kind` -> span kind; tag
`error` -> error status, dropped when "true"; tags stay strings, as the receiver's
`parse_string_tags` is off by default; endpoints -> `net.host.ip`/`net.host.port`/
`peer.service`/`net.peer.ip`/`net.peer.port`; annotations -> events) and
pkg/translator/jaeger/traces_to_jaegerproto.go (process = service name + the other
resource attributes; tags = attributes, then `span.kind`, `otel.status_code`,
`error=true`; parent -> CHILD_OF; events -> logs with an `event` field).
The query API it serves is in tracestore_api.py.
"""

from __future__ import annotations

import collections
from typing import Any

from meshtui.jaeger.model import CHILD_OF, KeyValue, SpanLog, SpanReference, Trace, TraceSpan, norm_id

NO_SERVICE = "OTLPResourceNoServiceName"  # what the translator names a process without one
ZIPKIN_KINDS = {"CLIENT": "client", "SERVER": "server", "PRODUCER": "producer", "CONSUMER": "consumer"}
# resource-level tags the receiver moves from span tags to the resource (semconv v1.6.1
# resource attribute namespaces): they end up as process tags
RESOURCE_PREFIXES = ("service.", "host.", "k8s.", "container.", "process.", "telemetry.", "cloud.", "os.")


class ZipkinFormatError(ValueError):
    """Not Zipkin v2 JSON; the collector answers 400 with this line."""


def _hex_id(value: Any, size: int, what: str) -> str:
    if not isinstance(value, str) or not value or len(value) > size * 2:
        raise ZipkinFormatError(f"{what}: expected up to {size * 2} hex digits")
    try:
        int(value, 16)
    except ValueError as exc:
        raise ZipkinFormatError(f"{what}: not hex") from exc
    return value.lower().rjust(size * 2, "0")


def _int(value: Any, what: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ZipkinFormatError(f"{what}: expected a non-negative integer")
    return value


def zipkin_to_span(z: Any) -> TraceSpan:
    """One Zipkin v2 span as Jaeger stores it."""
    if not isinstance(z, dict):
        raise ZipkinFormatError("a span is not an object")
    trace_id = _hex_id(z.get("traceId"), 16, "traceId")
    span_id = _hex_id(z.get("id"), 8, "id")
    raw_tags = z.get("tags") or {}
    if not isinstance(raw_tags, dict):
        raise ZipkinFormatError("tags: expected an object")
    tags = {str(k): str(v) for k, v in raw_tags.items()}
    local = z.get("localEndpoint") or {}
    remote = z.get("remoteEndpoint") or {}
    if not isinstance(local, dict) or not isinstance(remote, dict):
        raise ZipkinFormatError("endpoints: expected objects")
    service = local.get("serviceName") or NO_SERVICE
    process_tags = tuple(
        KeyValue(k, "string", tags.pop(k)) for k in sorted(tags) if k.startswith(RESOURCE_PREFIXES)
    )
    kind = ZIPKIN_KINDS.get(str(z.get("kind") or ""))
    if kind is None and "span.kind" in tags:
        kind = "internal" if tags.pop("span.kind") == "internal" else None
    error = False
    if "otel.status_code" in tags:
        error = tags.pop("otel.status_code") in ("STATUS_CODE_ERROR", "Error", "ERROR")
    if "error" in tags:
        error = True
        if tags["error"] == "true":
            del tags["error"]
    out = [KeyValue(k, "string", v) for k, v in tags.items()]
    if local.get("ipv4") or local.get("ipv6"):
        out.append(KeyValue("net.host.ip", "string", str(local.get("ipv6") or local.get("ipv4"))))
    if isinstance(local.get("port"), int) and local["port"] > 0:
        out.append(KeyValue("net.host.port", "int64", local["port"]))
    if remote.get("serviceName"):
        out.append(KeyValue("peer.service", "string", str(remote["serviceName"])))
    if remote.get("ipv4") or remote.get("ipv6"):
        out.append(KeyValue("net.peer.ip", "string", str(remote.get("ipv6") or remote.get("ipv4"))))
    if isinstance(remote.get("port"), int) and remote["port"] > 0:
        out.append(KeyValue("net.peer.port", "int64", remote["port"]))
    if kind:
        out.append(KeyValue("span.kind", "string", kind))
    if error:
        out += [KeyValue("otel.status_code", "string", "ERROR"), KeyValue("error", "bool", True)]
    parent = z.get("parentId")
    refs: tuple[SpanReference, ...] = ()
    if parent and parent != z.get("id"):
        refs = (SpanReference(CHILD_OF, trace_id, _hex_id(parent, 8, "parentId")),)
    logs = []
    for a in z.get("annotations") or []:
        if isinstance(a, dict):
            logs.append(
                SpanLog(
                    _int(a.get("timestamp"), "annotation timestamp"),
                    (KeyValue("event", "string", str(a.get("value", "")).split("|")[0]),),
                )
            )
    return TraceSpan(
        trace_id=trace_id,
        span_id=span_id,
        operation=str(z.get("name") or ""),
        service=str(service),
        start_us=_int(z.get("timestamp"), "timestamp"),
        duration_us=_int(z.get("duration"), "duration"),
        references=refs,
        tags=tuple(out),
        process_tags=process_tags,
        logs=tuple(logs),
    )


class TraceStore:
    """Spans by trace, newest traces kept (a memory store, like Jaeger's `memory` backend)."""

    def __init__(self, max_traces: int = 5000) -> None:
        self.max_traces = max_traces
        self._traces: collections.OrderedDict[str, list[TraceSpan]] = collections.OrderedDict()
        self.received = 0

    def add_zipkin(self, body: Any) -> int:
        if not isinstance(body, list):
            raise ZipkinFormatError("expected a JSON list of Zipkin v2 spans")
        spans = [zipkin_to_span(z) for z in body]
        for span in spans:
            self.add(span)
        return len(spans)

    def add(self, span: TraceSpan) -> None:
        key = norm_id(span.trace_id)
        self._traces.setdefault(key, []).append(span)
        self._traces.move_to_end(key)
        self.received += 1
        while len(self._traces) > self.max_traces:
            self._traces.popitem(last=False)

    def get(self, trace_id: str) -> Trace | None:
        spans = self._traces.get(norm_id(trace_id))
        return Trace(spans[0].trace_id, tuple(spans)) if spans else None

    def traces(self) -> list[Trace]:
        return [Trace(s[0].trace_id, tuple(s)) for s in reversed(self._traces.values())]

    def services(self) -> list[str]:
        return sorted({s.service for spans in self._traces.values() for s in spans})

    def operations(self, service: str) -> list[tuple[str, str]]:
        """(operation, span kind) pairs of one service."""
        ops = set()
        for spans in self._traces.values():
            for s in spans:
                if s.service == service:
                    ops.add((s.operation, s.tag("span.kind") or ""))
        return sorted(ops)


JAEGER_IMAGE = "docker.io/jaegertracing/jaeger:2.10.0"  # Istio's addon pins Jaeger 2.x


def tracing_service() -> dict[str, Any]:
    """Istio's addon service (samples/addons/jaeger.yaml): `tracing`, port 80 -> 16686."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "tracing", "namespace": "istio-system", "labels": {"app": "jaeger"}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.112.45",
            "selector": {"app": "jaeger"},
            "ports": [
                {"name": "http-query", "port": 80, "protocol": "TCP", "targetPort": 16686},
                {"name": "grpc-query", "port": 16685, "protocol": "TCP", "targetPort": 16685},
            ],
        },
    }
