"""An async client for Prometheus's HTTP API (`/api/v1/query`), with one-line errors:
a bad query (Prometheus's own `error`), a timeout, a TSDB not ready yet (503)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from meshtui import http

if TYPE_CHECKING:
    import httpx

QUERY_TIMEOUT = "10s"  # Prometheus's own limit, below ours: it says so rather than hanging


class PrometheusError(Exception):
    """Prometheus could not answer; the text is one line for the place or stderr."""


@dataclass(frozen=True, slots=True)
class Sample:
    labels: dict[str, str]
    value: float  # NaN where Prometheus says NaN (a quantile of no requests)


class PrometheusClient:
    def __init__(self, url: str, timeout: float = 15.0) -> None:
        self.url = url.rstrip("/")
        self._http = http.async_client(self.url, timeout)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def query(self, expr: str, at: float | None = None) -> list[Sample]:
        """An instant query's vector (at `at`, unix seconds, or now)."""
        return [
            Sample(dict(labels), value)
            for labels, value in vector(await self.fetch(expr, at), self.url, expr)
        ]

    async def fetch(self, expr: str, at: float | None = None) -> httpx.Response:
        """The HTTP part of an instant query, read whole; `vector()` reads the answer (in a
        thread for a big one: 10,000 edges is tens of milliseconds of JSON)."""
        params = {"query": expr, "timeout": QUERY_TIMEOUT}
        if at is not None:
            params["time"] = f"{at:.3f}"
        with http.failures(PrometheusError, "Prometheus", self.url):
            return http.released(await self._http.get("/api/v1/query", params=params))


def vector(r: httpx.Response, url: str, expr: str) -> Iterator[tuple[dict[str, str], float]]:
    """The (labels, value) pairs of an instant query's answer; PrometheusError for anything else."""
    try:
        doc = orjson.loads(r.content)
    except ValueError:  # orjson.JSONDecodeError is one
        doc = None
    if not isinstance(doc, dict):
        raise PrometheusError(
            f"Prometheus at {url} answered {r.status_code} with no JSON: {http.first_line(r)}"
        )
    if doc.get("status") != "success":
        kind = doc.get("errorType") or f"HTTP {r.status_code}"
        raise PrometheusError(f"Prometheus: {kind}: {doc.get('error') or http.first_line(r)}")
    data = doc.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        kind = data.get("resultType") if isinstance(data, dict) else None
        what = f"a {kind}" if kind else f"{type(data).__name__} data"
        raise PrometheusError(f"Prometheus answered {what}, not a vector, to {expr}")
    return _pairs(data.get("result") or [])


def _pairs(result: list[object]) -> Iterator[tuple[dict[str, str], float]]:
    for item in result:
        if not isinstance(item, dict):
            continue
        labels = item.get("metric")
        try:
            value = float(item["value"][1])  # "NaN", "+Inf" as Go writes them
        except (KeyError, IndexError, TypeError, ValueError):
            value = math.nan
        yield (labels if isinstance(labels, dict) else {}), value
