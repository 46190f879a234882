"""An async client for Jaeger's query service: finds the base path and the API, then
lists services and operations, searches traces and reads one trace.

Istio's addon serves Jaeger under `/jaeger` (its `QUERY_BASE_PATH`), a plain Jaeger
under `/`; Jaeger up to 2.20 has the classic `/api/...` JSON API, newer ones only
`/api/v3` for search (jaegertracing/jaeger #9260). Both are tried, classic first
(it carries Jaeger's adjusted model as its UI shows it).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from meshtui import http
from meshtui.jaeger import classic, otlp
from meshtui.jaeger.model import JaegerFormatError, Trace, norm_id
from meshtui.jaeger.query import TraceQuery

if TYPE_CHECKING:  # httpx loads with the first client (meshtui/http.py)
    import httpx

CLASSIC, V3 = "classic", "v3"
BIG_BODY = 256 * 1024
T = TypeVar("T")
JAEGER_SELF = ("jaeger", "jaeger-query", "jaeger-all-in-one")  # Jaeger traces itself: not a mesh service


class JaegerError(Exception):
    """Jaeger could not answer; the text is one line for the pane or stderr."""


@dataclass(frozen=True)
class JaegerApi:
    base_url: str  # scheme://host:port plus the base path, no trailing slash
    api: str  # CLASSIC or V3

    def describe(self) -> str:
        path = urllib.parse.urlsplit(self.base_url).path or "/"
        return f"{'classic /api' if self.api == CLASSIC else '/api/v3'} under {path}"


def _candidates(url: str) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if path:
        return [root + path]
    return [root + "/jaeger", root]


def matches_tags(trace: Trace, tags: tuple[tuple[str, str], ...]) -> bool:
    """Jaeger's tag search: some span carries every key=value (span or process tags)."""
    for span in trace.spans:
        have = {kv.key: kv.text() for kv in (*span.process_tags, *span.tags)}
        if all(have.get(k) == v for k, v in tags):
            return True
    return False


async def _parse(parse: Callable[[bytes], T], body: bytes) -> T:
    """Big answers (thousands of spans) are parsed in a thread, so the UI keeps answering keys."""
    if len(body) > BIG_BODY:
        return await asyncio.to_thread(parse, body)
    return parse(body)


class JaegerClient:
    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._http = http.async_client(self.url, timeout, follow_redirects=True, base=False)
        self.api: JaegerApi | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, url: str, params: Any = None) -> httpx.Response:
        with http.failures(JaegerError, "Jaeger", self.url):
            return http.released(await self._http.get(url, params=params))

    async def detect(self) -> JaegerApi:
        """Which base path and API this server has; remembered for later calls."""
        if self.api:
            return self.api
        tried = []
        for base in _candidates(self.url):
            for api, path, parse in (
                (CLASSIC, "/api/services", classic.parse_names),
                (V3, "/api/v3/services", otlp.parse_services),
            ):
                r = await self._get(base + path)
                tried.append(f"{urllib.parse.urlsplit(base + path).path} {r.status_code}")
                if r.status_code != 200:
                    continue
                try:
                    parse(r.content)
                except JaegerFormatError:
                    continue  # an HTML page (the UI's fallback route), not the API
                self.api = JaegerApi(base, api)
                return self.api
        raise JaegerError(f"no Jaeger query API at {self.url} (tried {', '.join(tried)})")

    def _check(self, r: httpx.Response, what: str) -> None:
        if r.status_code >= 400:
            reason = ""
            try:
                reason = "; ".join(classic.envelope(r.content, what).errors)
            except JaegerFormatError:
                reason = r.text.strip().splitlines()[0][:120] if r.text.strip() else ""
            tail = f": {reason}" if reason else ""
            raise JaegerError(f"Jaeger answered {r.status_code} for {what}{tail}")

    async def services(self) -> list[str]:
        api = await self.detect()
        path = "/api/services" if api.api == CLASSIC else "/api/v3/services"
        r = await self._get(api.base_url + path)
        self._check(r, "services")
        names = classic.parse_names(r.content) if api.api == CLASSIC else otlp.parse_services(r.content)
        return sorted(names)

    async def operations(self, service: str) -> list[str]:
        api = await self.detect()
        if api.api == CLASSIC:
            quoted = urllib.parse.quote(service, safe="")
            r = await self._get(f"{api.base_url}/api/services/{quoted}/operations")
            self._check(r, f"operations of {service}")
            return sorted(classic.parse_names(r.content, "a Jaeger operations answer"))
        r = await self._get(api.base_url + "/api/v3/operations", [("service", service)])
        self._check(r, f"operations of {service}")
        return otlp.parse_operations(r.content)

    async def find_traces(self, query: TraceQuery, now: float | None = None) -> list[Trace]:
        api = await self.detect()
        query.check()
        now = time.time() if now is None else now
        if api.api == CLASSIC:
            r = await self._get(api.base_url + "/api/traces", query.classic_params(now))
            self._check(r, "the trace search")
            traces, _errors = await _parse(classic.parse_traces, r.content)
        else:
            r = await self._get(api.base_url + "/api/v3/traces", query.v3_params(now))
            if r.status_code == 404 and otlp.is_not_found(r.content):
                return []
            self._check(r, "the trace search")
            traces = await _parse(otlp.parse_traces_data, r.content)
            # Jaeger before 2.19 ignores query.attributes: filter here so both agree
            traces = [t for t in traces if matches_tags(t, query.tags)]
        return traces[: query.limit]

    async def get_trace(self, trace_id: str) -> Trace | None:
        """One trace by id (hex, as printed in x-b3-traceid), or None when Jaeger has none."""
        api = await self.detect()
        tid = trace_id.strip().lower()
        path = "/api/traces/" if api.api == CLASSIC else "/api/v3/traces/"
        r = await self._get(api.base_url + path + urllib.parse.quote(tid, safe=""))
        if r.status_code == 404:
            return None
        self._check(r, f"trace {tid}")
        if api.api == CLASSIC:
            traces, errors = await _parse(classic.parse_traces, r.content)
            if not traces and errors:
                return None
        else:
            traces = await _parse(otlp.parse_traces_data, r.content)
        want = norm_id(tid)
        return next((t for t in traces if norm_id(t.trace_id) == want), traces[0] if traces else None)

    async def find_by_request_id(
        self, request_id: str, services: list[str] | None = None, lookback: str = "1h"
    ) -> Trace | None:
        """The trace whose spans carry `guid:x-request-id` (Jaeger's search needs a service:
        each mesh service is asked in turn)."""
        if services is None:
            services = [s for s in await self.services() if s not in JAEGER_SELF]
        for service in services:
            query = TraceQuery(service, tags=(("guid:x-request-id", request_id),), lookback=lookback, limit=5)
            for trace in await self.find_traces(query):
                if matches_tags(trace, query.tags):
                    return trace
        return None
