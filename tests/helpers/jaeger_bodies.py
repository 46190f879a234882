"""Jaeger answers built in the exact shapes of Jaeger's own JSON (classic: uimodel/model.go;
v3: OTLP JSON as apiv3/http_gateway.go writes it), for tests that need more than the
captures in ../shared/fixtures have (several services, skew, links, events)."""

from __future__ import annotations

import json
from typing import Any


def classic_span(
    span_id: str,
    op: str,
    start: int,
    duration: int,
    pid: str = "p1",
    parent: str | None = None,
    ref: str = "CHILD_OF",
    tags: dict[str, Any] | None = None,
    trace_id: str = "abc0000000000001",
) -> dict[str, Any]:
    return {
        "traceID": trace_id,
        "spanID": span_id,
        "flags": 1,
        "operationName": op,
        "references": [{"refType": ref, "traceID": trace_id, "spanID": parent}] if parent else [],
        "startTime": start,
        "duration": duration,
        "tags": [
            {"key": k, "type": "bool" if isinstance(v, bool) else "string", "value": v}
            for k, v in (tags or {}).items()
        ],
        "logs": [],
        "processID": pid,
        "warnings": None,
    }


def classic_trace(spans: list[dict[str, Any]], processes: dict[str, str], trace_id: str = "abc0000000000001"):
    return {
        "traceID": trace_id,
        "spans": spans,
        "processes": {pid: {"serviceName": name, "tags": []} for pid, name in processes.items()},
        "warnings": None,
    }


def classic_body(traces: list[dict[str, Any]]) -> str:
    return json.dumps({"data": traces, "total": 0, "limit": 0, "offset": 0, "errors": None})


def otlp_span(
    span_id: str,
    name: str,
    start_ns: int,
    end_ns: int,
    trace_id: str = "0af7651916cd43dd8448eb211c80319c",
    parent: str = "",
    kind: int = 2,
    attrs: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(start_ns),
        "endTimeUnixNano": str(end_ns),
        "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in (attrs or {}).items()],
        "status": {},
        **extra,
    }


def otlp_body(by_service: dict[str, list[dict[str, Any]]], wrap: bool = True) -> str:
    data = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
                "scopeSpans": [{"scope": {}, "spans": spans}],
            }
            for svc, spans in by_service.items()
        ]
    }
    return json.dumps({"result": data} if wrap else data)
