"""Trace search parameters and how each API spells them.

Classic `/api/traces` (jaegertracing/jaeger, before #9260 removed it: query_parser.go
`parseTraceQueryParams`): `service`, `operation`, `tags` (a JSON map), `minDuration`
and `maxDuration` (Go durations such as `100ms`), `start`/`end` in unix microseconds,
`limit`; `lookback` is what Jaeger UI also sends, for its own form.
`/api/v3/traces` (apiv3/query_parser.go): `query.service_name`, `query.operation_name`,
`query.attributes` (a JSON map, since 2.19), `query.start_time_min`/`_max` (RFC 3339),
`query.duration_min`/`_max`, `query.search_depth`. The snake_case names are the ones
every v2 release reads (newer ones also take camelCase).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from difflib import get_close_matches

_LOOKBACK = re.compile(r"^(\d+(?:\.\d+)?)(s|m|h|d|w)$")
_LOOKBACK_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# Go's time.ParseDuration, which Jaeger uses for minDuration/maxDuration
_GO_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_GO_UNITS_US = {"ns": 0.001, "us": 1, "µs": 1, "ms": 1000, "s": 1e6, "m": 60e6, "h": 3600e6}


class QueryError(ValueError):
    """A search parameter Jaeger would refuse; the text says which and why."""


def lookback_seconds(text: str) -> float:
    m = _LOOKBACK.match(text.strip())
    if not m:
        raise QueryError(f"lookback {text!r}: use a number and s, m, h, d or w (15m, 1h, 2d)")
    return float(m.group(1)) * _LOOKBACK_UNITS[m.group(2)]


def duration_us(text: str) -> float:
    """A Go duration (`1.5ms`, `2s`, `1m30s`) in microseconds."""
    t = text.strip()
    if not _GO_DURATION.match(t):
        raise QueryError(f"duration {text!r}: use a number and ns, us, ms, s, m or h (100ms, 1.5s)")
    return sum(float(n) * _GO_UNITS_US[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", t))


def unknown_service(typed: str, known: Sequence[str]) -> str:
    """The one line for a service Jaeger does not list: the names meant, else a few it has."""
    starting = [s for s in known if s.lower().startswith(typed.lower())]
    if starting:
        return f"service {typed!r} could be {', '.join(starting[:4])}: type more"
    meant = [s for s in known if typed.lower() in s.lower()] or get_close_matches(typed, known, 3, 0.8)
    if meant:
        return f"no service {typed!r} in Jaeger: did you mean {' or '.join(meant[:3])}?"
    listed = ", ".join(sorted(known)[:6]) + (", ..." if len(known) > 6 else "")
    return f"no service {typed!r} in Jaeger (Jaeger lists {len(known)}: {listed})"


def parse_tag(text: str) -> tuple[str, str]:
    """`key=value`, e.g. `http.status_code=503` or `guid:x-request-id=...`."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise QueryError(f"tag {text!r}: use key=value (http.status_code=503)")
    return key.strip(), value.strip()


@dataclass(frozen=True)
class TraceQuery:
    service: str
    operation: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    min_duration: str = ""
    max_duration: str = ""
    lookback: str = "1h"
    limit: int = 20

    def check(self) -> TraceQuery:
        if not self.service:
            raise QueryError("a search needs a service")
        lookback_seconds(self.lookback)
        lo = duration_us(self.min_duration) if self.min_duration else None
        hi = duration_us(self.max_duration) if self.max_duration else None
        if lo is not None and hi is not None and hi < lo:
            raise QueryError("max duration is below min duration")
        if not 1 <= self.limit <= 1500:
            raise QueryError("limit is 1 to 1500")
        return self

    def window_us(self, now: float) -> tuple[int, int]:
        end = int(now * 1e6)
        return end - int(lookback_seconds(self.lookback) * 1e6), end

    def classic_params(self, now: float) -> list[tuple[str, str]]:
        start, end = self.window_us(now)
        params = [("service", self.service)]
        if self.operation:
            params.append(("operation", self.operation))
        if self.tags:
            params.append(("tags", json.dumps(dict(self.tags))))
        if self.min_duration:
            params.append(("minDuration", self.min_duration))
        if self.max_duration:
            params.append(("maxDuration", self.max_duration))
        params += [
            ("start", str(start)),
            ("end", str(end)),
            ("limit", str(self.limit)),
            ("lookback", self.lookback),
        ]
        return params

    def v3_params(self, now: float) -> list[tuple[str, str]]:
        start, end = self.window_us(now)

        def rfc3339(us: int) -> str:
            return datetime.fromtimestamp(us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

        params = [("query.service_name", self.service)]
        if self.operation:
            params.append(("query.operation_name", self.operation))
        if self.tags:
            params.append(("query.attributes", json.dumps(dict(self.tags))))
        if self.min_duration:
            params.append(("query.duration_min", self.min_duration))
        if self.max_duration:
            params.append(("query.duration_max", self.max_duration))
        params += [
            ("query.start_time_min", rfc3339(start)),
            ("query.start_time_max", rfc3339(end)),
            ("query.search_depth", str(self.limit)),
        ]
        return params
