"""The demo's Jaeger query service: the classic HTTP JSON API under a base path
(`/jaeger`, as Istio's addon serves it) and `/api/v3`, over a TraceStore.

Answer shapes as jaegertracing/jaeger writes them: the classic envelope
`structuredResponse` (http_handler.go: `data`, `total`, `limit`, `offset`, `errors`),
traces as internal/uimodel (`traceID`, `spans`, `processes`, `warnings`); v3 as
apiv3/http_gateway.go (`{"result": TracesData}` in OTLP JSON with hex ids, 404
`{"error": {...}}` for no traces, `services`, `operations`). Search semantics follow
Jaeger's memory store: a trace matches when one of its spans has the service and, if
given, the operation, every tag, the duration bounds and a start in the window.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from meshtui.demo.tracestore import TraceStore, ZipkinFormatError
from meshtui.jaeger.model import CHILD_OF, KeyValue, Trace, TraceSpan
from meshtui.jaeger.query import QueryError, duration_us

KIND_NUMBERS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}


def _envelope(data: Any, errors: list[dict[str, Any]] | None = None, status: int = 200) -> web.Response:
    total = len(data) if isinstance(data, list) else 0
    body = {"data": data, "total": total, "limit": 0, "offset": 0, "errors": errors}
    return web.json_response(body, status=status)


def _error(code: int, msg: str) -> web.Response:
    return _envelope(None, [{"code": code, "msg": msg}], status=code)


def _kv(kv: KeyValue) -> dict[str, Any]:
    return {"key": kv.key, "type": kv.type, "value": kv.value}


def classic_trace(trace: Trace) -> dict[str, Any]:
    processes: dict[tuple[str, tuple[KeyValue, ...]], str] = {}
    spans = []
    for s in trace.spans:
        pid = processes.setdefault((s.service, s.process_tags), f"p{len(processes) + 1}")
        spans.append(
            {
                "traceID": s.trace_id,
                "spanID": s.span_id,
                "flags": 1,
                "operationName": s.operation,
                "references": [
                    {"refType": r.ref_type, "traceID": r.trace_id, "spanID": r.span_id} for r in s.references
                ],
                "startTime": s.start_us,
                "duration": s.duration_us,
                "tags": [_kv(t) for t in s.tags],
                "logs": [
                    {
                        "timestamp": log.timestamp_us,
                        "fields": [_kv(f) for f in log.fields],
                    }
                    for log in s.logs
                ],
                "processID": pid,
                "warnings": None,
            }
        )
    return {
        "traceID": trace.trace_id,
        "spans": spans,
        "processes": {
            pid: {
                "serviceName": svc,
                "tags": [_kv(t) for t in tags],
            }
            for (svc, tags), pid in processes.items()
        },
        "warnings": None,
    }


def _any_value(kv: KeyValue) -> dict[str, Any]:
    if kv.type == "bool":
        return {"boolValue": bool(kv.value)}
    if kv.type == "int64":
        return {"intValue": str(kv.value)}
    if kv.type == "float64":
        return {"doubleValue": kv.value}
    return {"stringValue": str(kv.value)}


def _otlp_span(s: TraceSpan) -> dict[str, Any]:
    parent = next((r for r in s.references if r.ref_type == CHILD_OF), None)
    attrs = [kv for kv in s.tags if kv.key not in ("span.kind", "otel.status_code", "error")]
    return {
        "traceId": s.trace_id,
        "spanId": s.span_id,
        "parentSpanId": parent.span_id if parent else "",
        "name": s.operation,
        "kind": KIND_NUMBERS.get(s.tag("span.kind") or "", 0),
        "startTimeUnixNano": str(s.start_us * 1000),
        "endTimeUnixNano": str(s.end_us * 1000),
        "attributes": [{"key": kv.key, "value": _any_value(kv)} for kv in attrs],
        "events": [
            {
                "timeUnixNano": str(log.timestamp_us * 1000),
                "name": next((f.text() for f in log.fields if f.key == "event"), ""),
                "attributes": [
                    {"key": f.key, "value": _any_value(f)} for f in log.fields if f.key != "event"
                ],
            }
            for log in s.logs
        ],
        "links": [
            {
                "traceId": r.trace_id,
                "spanId": r.span_id,
                "attributes": [{"key": "opentracing.ref_type", "value": {"stringValue": r.ref_type.lower()}}],
            }
            for r in s.references
            if r is not parent
        ],
        "status": {"code": 2} if s.is_error else {},
    }


def otlp_traces(traces: list[Trace]) -> dict[str, Any]:
    resources: dict[tuple[str, tuple[KeyValue, ...]], list[dict[str, Any]]] = {}
    for trace in traces:
        for s in trace.spans:
            resources.setdefault((s.service, s.process_tags), []).append(_otlp_span(s))
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [
                        {"key": "service.name", "value": {"stringValue": svc}},
                        *({"key": kv.key, "value": _any_value(kv)} for kv in ptags),
                    ]
                },
                "scopeSpans": [{"scope": {}, "spans": spans}],
            }
            for (svc, ptags), spans in resources.items()
        ]
    }


def span_matches(
    s: TraceSpan,
    service: str,
    operation: str,
    tags: dict[str, str],
    lo: float | None,
    hi: float | None,
    window: tuple[int, int] | None,
) -> bool:
    if s.service != service or (operation and s.operation != operation):
        return False
    if (lo is not None and s.duration_us < lo) or (hi is not None and s.duration_us > hi):
        return False
    if window and not window[0] <= s.start_us <= window[1]:
        return False
    have = {kv.key: kv.text() for kv in (*s.tags, *s.process_tags)}
    have.update({f.key: f.text() for log in s.logs for f in log.fields})
    return all(have.get(k) == v for k, v in tags.items())


class QueryApi:
    def __init__(self, store: TraceStore, base_path: str = "/jaeger", classic: bool = True) -> None:
        self.store = store
        self.base = base_path.rstrip("/")
        self.classic = classic  # False: only what the newest Jaeger kept (#9260)

    def app(self) -> web.Application:
        app = web.Application()
        r, b = app.router, self.base
        if self.classic:
            r.add_get(b + "/api/services", self.services)
            r.add_get(b + "/api/services/{service}/operations", self.operations_legacy)
            r.add_get(b + "/api/operations", self.operations)
            r.add_get(b + "/api/traces", self.search)
        r.add_get(b + "/api/traces/{id}", self.trace)
        r.add_get(b + "/api/v3/services", self.v3_services)
        r.add_get(b + "/api/v3/operations", self.v3_operations)
        r.add_get(b + "/api/v3/traces", self.v3_search)
        r.add_get(b + "/api/v3/traces/{id}", self.v3_trace)
        r.add_get(b + "/{tail:.*}", self.ui)  # Jaeger UI answers any other path with its page
        return app

    async def ui(self, request: web.Request) -> web.Response:
        return web.Response(text="<!doctype html><title>Jaeger UI</title>", content_type="text/html")

    async def services(self, request: web.Request) -> web.Response:
        return _envelope(self.store.services())

    async def operations_legacy(self, request: web.Request) -> web.Response:
        names = sorted({op for op, _ in self.store.operations(request.match_info["service"])})
        return _envelope(names)

    async def operations(self, request: web.Request) -> web.Response:
        service = request.query.get("service", "")
        if not service:
            return _error(400, "parameter 'service' is required")
        return _envelope([{"name": op, "spanKind": kind} for op, kind in self.store.operations(service)])

    def _find(
        self,
        service: str,
        operation: str,
        tags: dict[str, str],
        lo: float | None,
        hi: float | None,
        window: tuple[int, int] | None,
        limit: int,
    ) -> list[Trace]:
        found = [
            t
            for t in self.store.traces()
            if any(span_matches(s, service, operation, tags, lo, hi, window) for s in t.spans)
        ]
        return found[:limit] if limit > 0 else found

    async def search(self, request: web.Request) -> web.Response:
        q = request.query
        service = q.get("service", "")
        if not service:
            return _error(400, "parameter 'service' is required")
        try:
            tags = json.loads(q["tags"]) if q.get("tags") else {}
            if not isinstance(tags, dict):
                raise ValueError("tags")
            for t in q.getall("tag", []):  # `tag=key:value`, the older form
                k, _, v = t.partition(":")
                tags[k] = v
            lo = duration_us(q["minDuration"]) if q.get("minDuration") else None
            hi = duration_us(q["maxDuration"]) if q.get("maxDuration") else None
            now = int(time.time() * 1e6)
            window = (int(q.get("start") or now - 3600e6), int(q.get("end") or now))
            limit = int(q.get("limit") or 100)
        except (ValueError, QueryError) as exc:
            return _error(400, f"malformed parameter: {exc}")
        found = self._find(service, q.get("operation", ""), tags, lo, hi, window, limit)
        return _envelope([classic_trace(t) for t in found])

    async def trace(self, request: web.Request) -> web.Response:
        found = self.store.get(request.match_info["id"])
        if found is None:
            return _error(404, "trace not found")
        return _envelope([classic_trace(found)])

    async def v3_services(self, request: web.Request) -> web.Response:
        return web.json_response({"services": self.store.services()})

    async def v3_operations(self, request: web.Request) -> web.Response:
        ops = self.store.operations(request.query.get("service", ""))
        return web.json_response(
            {"operations": [{"name": op, "spanKind": kind or "internal"} for op, kind in ops]}
        )

    @staticmethod
    def _v3_error(code: int, message: str) -> web.Response:
        return web.json_response({"error": {"httpCode": code, "message": message}}, status=code)

    def _v3_result(self, traces: list[Trace]) -> web.Response:
        if not traces:
            return self._v3_error(404, "No traces found")
        return web.json_response({"result": otlp_traces(traces)})

    async def v3_search(self, request: web.Request) -> web.Response:
        q = request.query

        def get(name: str) -> str:  # camelCase (newest) or snake_case (every v2)
            snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
            return q.get(name) or q.get(snake) or ""

        try:
            t0, t1 = get("query.startTimeMin"), get("query.startTimeMax")
            if not t0 or not t1:
                raise ValueError("query.startTimeMin and query.startTimeMax are required")
            window = (_rfc3339_us(t0), _rfc3339_us(t1))
            attrs = json.loads(get("query.attributes") or "{}")
            lo = duration_us(get("query.durationMin")) if get("query.durationMin") else None
            hi = duration_us(get("query.durationMax")) if get("query.durationMax") else None
            limit = int(get("query.searchDepth") or 100)
        except (ValueError, QueryError) as exc:
            return self._v3_error(400, str(exc))
        service = get("query.serviceName")
        found = self._find(service, get("query.operationName"), attrs, lo, hi, window, limit)
        return self._v3_result(found)

    async def v3_trace(self, request: web.Request) -> web.Response:
        found = self.store.get(request.match_info["id"])
        return self._v3_result([found] if found else [])


def _rfc3339_us(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1e6)


def collector_app(store: TraceStore) -> web.Application:
    """Zipkin's collector: POST /api/v2/spans (JSON v2) answers 202; other paths 404,
    as the scenario's broken `/zipkin/api/v1/spans` bootstrap finds out."""

    async def collect(request: web.Request) -> web.Response:
        try:
            store.add_zipkin(await request.json())
        except (ValueError, ZipkinFormatError) as exc:
            return web.Response(status=400, text=str(exc))
        return web.Response(status=202)

    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.router.add_post("/api/v2/spans", collect)
    return app
