"""Jaeger's classic HTTP JSON API: `/api/services`, `/api/services/{s}/operations`,
`/api/traces?...` and `/api/traces/{id}`.

Shapes from jaegertracing/jaeger: the envelope is `structuredResponse`
(cmd/jaeger/internal/extension/jaegerquery/internal/http_handler.go: `data`, `total`,
`limit`, `offset`, `errors` of `{code, msg, traceID}`), traces are
internal/uimodel/model.go (`traceID`, `spans`, `processes`, `warnings`; a span's
`processID` names its process, or the span embeds `process`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from meshtui.jaeger.fields import _at, arr, integer, load_json, obj, text
from meshtui.jaeger.model import (
    CHILD_OF,
    FOLLOWS_FROM,
    JaegerFormatError,
    KeyValue,
    SpanLog,
    SpanReference,
    Trace,
    TraceSpan,
)


@dataclass(frozen=True, slots=True)
class Answer:
    """The envelope's payload and its `errors` (Jaeger reports per-trace failures there)."""

    data: Any
    errors: tuple[str, ...]


def envelope(body: str | bytes, what: str) -> Answer:
    root = obj(load_json(body, what), what)
    if "data" not in root and "errors" not in root:
        raise JaegerFormatError(f"no `data` or `errors`: not {what}")
    errors: list[str] = []
    for i, e in enumerate(arr(root.get("errors"), "errors")):
        e = obj(e, f"errors[{i}]")
        msg = text(e.get("msg"), f"errors[{i}].msg", default="")
        code = e.get("code")
        numeric = isinstance(code, int) and not isinstance(code, bool)
        errors.append(f"{code} {msg}".strip() if numeric else msg)
    return Answer(root.get("data"), tuple(errors))


def parse_names(body: str | bytes, what: str = "a Jaeger /api/services answer") -> list[str]:
    """Services, or operations: plain names, or `{name, spanKind}` (`/api/operations`)."""
    answer = envelope(body, what)
    names: list[str] = []
    for i, item in enumerate(arr(answer.data, "data")):
        if isinstance(item, dict):
            item = item.get("name")
        names.append(text(item, f"data[{i}]"))
    return names


def _kvs(value: Any, where: str, key: str | None = None) -> tuple[KeyValue, ...]:
    out = []
    for i, kv in enumerate(arr(value, where, key)):
        k, t = (kv.get("key"), kv.get("type", "string")) if type(kv) is dict else (None, None)
        if type(k) is not str or type(t) is not str:  # the slow path only finds the culprit
            at = _at(_at(where, key), i)
            kv = obj(kv, at)
            text(kv.get("key"), at, "key")
            text(kv.get("type"), at, "type", default="string")
            t = "string"
        out.append(KeyValue(k, t, kv.get("value")))  # type: ignore[arg-type]
    return tuple(out)


def _process(value: Any, where: str, key: str | None = None) -> tuple[str, tuple[KeyValue, ...]]:
    where = _at(where, key)
    p = obj(value, where)
    return text(p.get("serviceName"), where, "serviceName"), _kvs(p.get("tags"), where, "tags")


def _span(s: Any, where: str, processes: dict[str, tuple[str, tuple[KeyValue, ...]]]) -> TraceSpan:
    s = obj(s, where)
    trace_id = text(s.get("traceID"), where, "traceID")
    refs = []
    for i, r in enumerate(arr(s.get("references"), where, "references")):
        r = obj(r, f"{where}.references[{i}]")
        ref_type = text(r.get("refType"), f"{where}.references[{i}].refType")
        if ref_type not in (CHILD_OF, FOLLOWS_FROM):
            raise JaegerFormatError(f"{where}.references[{i}]: unknown refType {ref_type[:40]!r}")
        refs.append(
            SpanReference(
                ref_type,
                text(r.get("traceID"), f"{where}.references[{i}].traceID", default=trace_id),
                text(r.get("spanID"), f"{where}.references[{i}].spanID"),
            )
        )
    # deprecated but still written by old agents: a parent without a reference
    parent = s.get("parentSpanID")
    if isinstance(parent, str) and parent.strip("0") and not refs:
        refs.append(SpanReference(CHILD_OF, trace_id, parent))
    if "process" in s and s["process"] is not None:
        service, ptags = _process(s["process"], where, "process")
    else:
        pid = text(s.get("processID"), where, "processID")
        if pid not in processes:
            raise JaegerFormatError(f"{where}: processID {pid[:40]!r} is not in the trace's processes")
        service, ptags = processes[pid]
    logs = []
    for i, log in enumerate(arr(s.get("logs"), where, "logs")):
        log = obj(log, f"{where}.logs[{i}]")
        logs.append(
            SpanLog(
                integer(log.get("timestamp"), f"{where}.logs[{i}].timestamp"),
                _kvs(log.get("fields"), f"{where}.logs[{i}].fields"),
            )
        )
    return TraceSpan(
        trace_id=trace_id,
        span_id=text(s.get("spanID"), where, "spanID"),
        operation=text(s.get("operationName"), where, "operationName", default=""),
        service=service,
        start_us=integer(s.get("startTime"), where, "startTime"),
        duration_us=integer(s.get("duration"), where, "duration", default=0),
        references=tuple(refs),
        tags=_kvs(s.get("tags"), where, "tags"),
        process_tags=ptags,
        logs=tuple(logs),
        warnings=tuple(text(w, where, "warnings") for w in arr(s.get("warnings"), where, "warnings")),
    )


def parse_trace_object(t: Any, where: str = "trace") -> Trace:
    t = obj(t, where)
    processes = {
        text(pid, f"{where}.processes key"): _process(p, f"{where}.processes.{pid}")
        for pid, p in obj(t.get("processes") or {}, where, "processes").items()
    }
    items = arr(t.get("spans"), where, "spans")
    spans = tuple(_span(s, f"{where}.spans[{i}]", processes) for i, s in enumerate(items))
    trace_id = text(t.get("traceID"), where, "traceID", default=spans[0].trace_id if spans else "")
    warnings = tuple(text(w, where, "warnings") for w in arr(t.get("warnings"), where, "warnings"))
    return Trace(trace_id, spans, warnings)


def parse_traces(body: str | bytes) -> tuple[list[Trace], tuple[str, ...]]:
    """The traces of an `/api/traces` or `/api/traces/{id}` answer, and its errors."""
    answer = envelope(body, "a Jaeger /api/traces answer")
    traces = [parse_trace_object(t, f"data[{i}]") for i, t in enumerate(arr(answer.data, "data"))]
    return traces, answer.errors
