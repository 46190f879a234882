"""An async client for Prometheus's HTTP API (`/api/v1/query`), with one-line errors:
a bad query (Prometheus's own `error`), a timeout, a TSDB not ready yet (503)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from meshtui import http

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
        params = {"query": expr, "timeout": QUERY_TIMEOUT}
        if at is not None:
            params["time"] = f"{at:.3f}"
        with http.failures(PrometheusError, "Prometheus", self.url):
            r = http.released(await self._http.get("/api/v1/query", params=params))
        try:
            doc = r.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise PrometheusError(
                f"Prometheus at {self.url} answered {r.status_code} with no JSON: {http.first_line(r)}"
            )
        if doc.get("status") != "success":
            kind = doc.get("errorType") or f"HTTP {r.status_code}"
            raise PrometheusError(f"Prometheus: {kind}: {doc.get('error') or http.first_line(r)}")
        data = doc.get("data") or {}
        if data.get("resultType") != "vector":
            raise PrometheusError(f"Prometheus answered a {data.get('resultType')}, not a vector, to {expr}")
        out = []
        for item in data.get("result") or []:
            try:
                value = float(item["value"][1])  # "NaN", "+Inf" as Go writes them
            except (KeyError, IndexError, TypeError, ValueError):
                value = math.nan
            out.append(Sample(dict(item.get("metric") or {}), value))
        return out
