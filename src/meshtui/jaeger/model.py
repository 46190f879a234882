"""Jaeger's trace model as its query API shows it: traces, spans, processes, tags, logs.

The names follow Jaeger's UI model (jaegertracing/jaeger internal/uimodel/model.go:
`Trace`, `Span`, `Reference`, `Process`, `Log`, `KeyValue`); both the classic
`/api/traces` JSON and the `/api/v3` OTLP answers are read into these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

CHILD_OF = "CHILD_OF"
FOLLOWS_FROM = "FOLLOWS_FROM"


class JaegerFormatError(ValueError):
    """A body that is not what Jaeger's query API answers; the text is one line."""


class KeyValue(NamedTuple):
    key: str
    type: str  # Jaeger's value types: string, bool, int64, float64, binary
    value: Any

    def text(self) -> str:
        if isinstance(self.value, bool):
            return "true" if self.value else "false"
        return str(self.value)


class SpanReference(NamedTuple):
    ref_type: str  # CHILD_OF or FOLLOWS_FROM
    trace_id: str
    span_id: str


class SpanLog(NamedTuple):
    timestamp_us: int
    fields: tuple[KeyValue, ...]


class TraceSpan(NamedTuple):
    """One span, its process (service) folded in as the UI shows it.

    Spans, tags and references are NamedTuples: built thousands at a time (a 5,000-span
    trace), they cost a tuple each, and the cyclic GC stops tracking them."""

    trace_id: str
    span_id: str
    operation: str
    service: str
    start_us: int  # microseconds since the epoch, as Jaeger's model keeps them
    duration_us: int
    references: tuple[SpanReference, ...] = ()
    tags: tuple[KeyValue, ...] = ()
    process_tags: tuple[KeyValue, ...] = ()
    logs: tuple[SpanLog, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us

    def tag(self, key: str) -> str | None:
        for kv in self.tags:
            if kv.key == key:
                return kv.text()
        return None

    @property
    def is_error(self) -> bool:
        # Jaeger UI marks `error=true`; OTLP's translator adds it for STATUS_CODE_ERROR
        return self.tag("error") == "true" or self.tag("otel.status_code") == "ERROR"


@dataclass(frozen=True, slots=True)
class Trace:
    trace_id: str
    spans: tuple[TraceSpan, ...]
    warnings: tuple[str, ...] = ()


def norm_id(raw: str) -> str:
    """Ids compared as Jaeger compares them: hex, case and leading zeros aside
    (older Jaegers print span ids without zero padding: `ec2b4e0bcea566d`)."""
    return raw.lower().lstrip("0") or "0"


def is_hex_id(text: str, max_len: int = 32) -> bool:
    return 0 < len(text) <= max_len and all(c in "0123456789abcdefABCDEF" for c in text)
