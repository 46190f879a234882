"""Jaeger's `/api/v3` answers: OTLP JSON traces, services, operations.

Routes and envelope from jaegertracing/jaeger
cmd/jaeger/internal/extension/jaegerquery/internal/apiv3/http_gateway.go (traces come
wrapped as `{"result": TracesData}`, errors as `{"error": {"httpCode", "message"}}`;
snapshots/*.json there show each answer). Spans are turned into Jaeger's model the way
Jaeger's own OTLP translator does (opentelemetry-collector-contrib
pkg/translator/jaeger/traces_to_jaegerproto.go): `service.name` is the process, other
resource attributes its tags; kind becomes `span.kind`, an error status `otel.status_code`
and `error=true`; the parent is a CHILD_OF reference and links are FOLLOWS_FROM unless
their `opentracing.ref_type` says `child_of`; events become logs with an `event` field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from meshtui.jaeger.fields import arr, integer, load_json, obj, text
from meshtui.jaeger.model import (
    CHILD_OF,
    FOLLOWS_FROM,
    JaegerFormatError,
    KeyValue,
    SpanLog,
    SpanReference,
    Trace,
    TraceSpan,
    is_hex_id,
)

SPAN_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_ERROR, STATUS_OK = 2, 1


def _enum(value: Any, where: str, prefix: str) -> int:
    """Protobuf JSON writes enums as numbers or as their names (`SPAN_KIND_SERVER`)."""
    if isinstance(value, str) and not value.isdigit():
        names = {
            "SPAN_KIND": ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"],
            "STATUS_CODE": ["UNSET", "OK", "ERROR"],
        }[prefix]
        name = value.removeprefix(prefix + "_")
        if name not in names:
            raise JaegerFormatError(f"{where}: unknown {prefix} {value[:40]!r}")
        return names.index(name)
    return integer(value, where, default=0)


def _id(value: Any, where: str, *, size: int, empty_ok: bool = False) -> str:
    """Hex, as Jaeger's v3 API writes ids; base64 (plain protobuf JSON) is accepted too."""
    raw = text(value, where, default="")
    if not raw:
        if empty_ok:
            return ""
        raise JaegerFormatError(f"{where}: empty id")
    if len(raw) == size * 2 and is_hex_id(raw, size * 2):
        return raw.lower()
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise JaegerFormatError(f"{where}: not a hex or base64 id") from exc
    if len(decoded) != size:
        raise JaegerFormatError(f"{where}: not a {size}-byte id")
    return decoded.hex()


def _value(v: Any, where: str, depth: int = 0) -> tuple[str, Any]:
    """An OTLP AnyValue as a Jaeger tag (type, value); maps and lists become strings."""
    v = obj(v, where)
    if depth > 16:
        raise JaegerFormatError(f"{where}: values nested too deep")
    if "stringValue" in v:
        return "string", text(v["stringValue"], where)
    if "boolValue" in v:
        b = v["boolValue"]
        if not isinstance(b, bool):
            raise JaegerFormatError(f"{where}: expected true or false")
        return "bool", b
    if "intValue" in v:
        iv = v["intValue"]
        if isinstance(iv, str) and iv.lstrip("-").isdigit() and len(iv) < 24:
            return "int64", int(iv)
        if isinstance(iv, int) and not isinstance(iv, bool):
            return "int64", iv
        raise JaegerFormatError(f"{where}: expected an integer")
    if "doubleValue" in v:
        d = v["doubleValue"]
        if isinstance(d, (int, float)) and not isinstance(d, bool):
            return "float64", float(d)
        raise JaegerFormatError(f"{where}: expected a number")
    if "bytesValue" in v:
        return "binary", text(v["bytesValue"], where)
    if "arrayValue" in v:
        values = arr(obj(v["arrayValue"], where).get("values"), where)
        return "string", "[" + ",".join(str(_value(x, where, depth + 1)[1]) for x in values) + "]"
    if "kvlistValue" in v:
        kvs = _attributes(obj(v["kvlistValue"], where).get("values"), where, depth + 1)
        return "string", "{" + ",".join(f"{kv.key}:{kv.text()}" for kv in kvs) + "}"
    return "string", ""


def _attributes(value: Any, where: str, depth: int = 0) -> tuple[KeyValue, ...]:
    out = []
    for i, kv in enumerate(arr(value, where)):
        kv = obj(kv, f"{where}[{i}]")
        vtype, v = _value(kv.get("value") or {}, f"{where}[{i}].value", depth)
        out.append(KeyValue(text(kv.get("key"), f"{where}[{i}].key"), vtype, v))
    return tuple(out)


def _span(s: Any, where: str, service: str, ptags: tuple[KeyValue, ...], scope: Any) -> TraceSpan:
    s = obj(s, where)
    trace_id = _id(s.get("traceId"), f"{where}.traceId", size=16)
    parent = _id(s.get("parentSpanId"), f"{where}.parentSpanId", size=8, empty_ok=True)
    refs = [SpanReference(CHILD_OF, trace_id, parent)] if parent else []
    for i, link in enumerate(arr(s.get("links"), f"{where}.links")):
        link = obj(link, f"{where}.links[{i}]")
        attrs = {kv.key: kv.text() for kv in _attributes(link.get("attributes"), f"{where}.links[{i}]")}
        ref_type = CHILD_OF if attrs.get("opentracing.ref_type") == "child_of" else FOLLOWS_FROM
        ref = SpanReference(
            ref_type,
            _id(link.get("traceId"), f"{where}.links[{i}].traceId", size=16),
            _id(link.get("spanId"), f"{where}.links[{i}].spanId", size=8),
        )
        if parent and ref.trace_id == trace_id and ref.span_id == parent:
            refs[0] = ref  # the translator lets a link to the parent set the parent's type
        else:
            refs.append(ref)
    start = integer(s.get("startTimeUnixNano"), f"{where}.startTimeUnixNano", default=0)
    end = integer(s.get("endTimeUnixNano"), f"{where}.endTimeUnixNano", default=start)
    tags = list(_scope_tags(scope, where))
    tags += _attributes(s.get("attributes"), f"{where}.attributes")
    kind = SPAN_KINDS.get(_enum(s.get("kind"), f"{where}.kind", "SPAN_KIND"))
    if kind:
        tags.append(KeyValue("span.kind", "string", kind))
    status = obj(s.get("status") or {}, f"{where}.status")
    code = _enum(status.get("code"), f"{where}.status.code", "STATUS_CODE")
    if code == STATUS_ERROR:
        tags += [KeyValue("otel.status_code", "string", "ERROR"), KeyValue("error", "bool", True)]
    elif code == STATUS_OK:
        tags.append(KeyValue("otel.status_code", "string", "OK"))
    message = text(status.get("message"), f"{where}.status.message", default="")
    if message:
        tags.append(KeyValue("otel.status_description", "string", message))
    logs = []
    for i, ev in enumerate(arr(s.get("events"), f"{where}.events")):
        ev = obj(ev, f"{where}.events[{i}]")
        fields = _attributes(ev.get("attributes"), f"{where}.events[{i}].attributes")
        name = text(ev.get("name"), f"{where}.events[{i}].name", default="")
        if name and not any(f.key == "event" for f in fields):
            fields = (KeyValue("event", "string", name), *fields)
        at = integer(ev.get("timeUnixNano"), f"{where}.events[{i}]", default=0)
        logs.append(SpanLog(at // 1000, fields))
    return TraceSpan(
        trace_id=trace_id,
        span_id=_id(s.get("spanId"), f"{where}.spanId", size=8),
        operation=text(s.get("name"), f"{where}.name", default=""),
        service=service,
        start_us=start // 1000,
        duration_us=max(0, end - start) // 1000,
        references=tuple(refs),
        tags=tuple(tags),
        process_tags=ptags,
        logs=tuple(logs),
    )


def _scope_tags(scope: Any, where: str) -> list[KeyValue]:
    scope = obj(scope or {}, f"{where} scope")
    out = []
    for key, tag in (("name", "otel.scope.name"), ("version", "otel.scope.version")):
        value = text(scope.get(key), f"{where} scope.{key}", default="")
        if value:
            out.append(KeyValue(tag, "string", value))
    return out


def parse_traces_data(body: str | bytes) -> list[Trace]:
    """An `/api/v3/traces` or `/api/v3/traces/{id}` answer, grouped into traces by id."""
    root = obj(load_json(body, "a Jaeger /api/v3 traces answer"), "answer")
    if "error" in root:
        raise JaegerFormatError(_error_line(root["error"]))
    data = obj(root["result"], "result") if "result" in root else root
    if "resourceSpans" not in data:
        raise JaegerFormatError("no `resourceSpans`: not an OTLP traces answer")
    by_trace: dict[str, list[TraceSpan]] = {}
    for r, rs in enumerate(arr(data.get("resourceSpans"), "resourceSpans")):
        where = f"resourceSpans[{r}]"
        rs = obj(rs, where)
        attrs = _attributes(obj(rs.get("resource") or {}, f"{where}.resource").get("attributes"), where)
        service = next((kv.text() for kv in attrs if kv.key == "service.name"), "OTLPResourceNoServiceName")
        ptags = tuple(kv for kv in attrs if kv.key != "service.name")
        # `instrumentationLibrarySpans` is what OTLP called scopes before 0.15
        scopes = rs.get("scopeSpans", rs.get("instrumentationLibrarySpans"))
        for c, ss in enumerate(arr(scopes, f"{where}.scopeSpans")):
            ss = obj(ss, f"{where}.scopeSpans[{c}]")
            scope = ss.get("scope", ss.get("instrumentationLibrary"))
            for i, s in enumerate(arr(ss.get("spans"), f"{where}.scopeSpans[{c}].spans")):
                span = _span(s, f"{where}.scopeSpans[{c}].spans[{i}]", service, ptags, scope)
                by_trace.setdefault(span.trace_id, []).append(span)
    return [Trace(tid, tuple(spans)) for tid, spans in by_trace.items()]


def _error_line(err: Any) -> str:
    err = obj(err, "error")
    message = text(err.get("message"), "error.message", default="error")
    return f"Jaeger answered {err.get('httpCode', '')}: {message}".replace("  ", " ")


def is_not_found(body: str | bytes) -> bool:
    """Jaeger v3 answers 404 `No traces found` for a search with no match."""
    try:
        root = load_json(body, "an answer")
    except JaegerFormatError:
        return False
    err = root.get("error") if isinstance(root, dict) else None
    return isinstance(err, dict) and err.get("httpCode") == 404


def parse_services(body: str | bytes) -> list[str]:
    root = obj(load_json(body, "a Jaeger /api/v3/services answer"), "answer")
    if "services" not in root:
        raise JaegerFormatError("no `services`: not a Jaeger /api/v3/services answer")
    return [text(s, f"services[{i}]") for i, s in enumerate(arr(root["services"], "services"))]


def parse_operations(body: str | bytes) -> list[str]:
    root = obj(load_json(body, "a Jaeger /api/v3/operations answer"), "answer")
    if "operations" not in root:
        raise JaegerFormatError("no `operations`: not a Jaeger /api/v3/operations answer")
    out = []
    for i, op in enumerate(arr(root["operations"], "operations")):
        out.append(text(obj(op, f"operations[{i}]").get("name"), f"operations[{i}].name"))
    return sorted(set(out))
