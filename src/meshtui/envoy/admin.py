"""An async client for one Envoy admin endpoint (port 15000), with human errors."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from meshtui import http
from meshtui.envoy.stats import StatKind
from meshtui.envoy.stats_catalog import TYPED_BODIES as TYPED
from meshtui.envoy.tracker import StatKinds

if TYPE_CHECKING:  # httpx loads with the first client (meshtui/http.py)
    import httpx


class AdminError(Exception):
    """Envoy's admin API could not answer; the text is one line for the pane."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class ReadOnlyError(AdminError):
    """meshtui was started with --read-only: nothing that changes a proxy is called."""


class EnvoyAdmin:
    def __init__(self, base_url: str, timeout: float = 5.0, *, read_only: bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.read_only = read_only  # safe by default: only the Proxy tab's client may change
        self._client = http.async_client(self.base_url, timeout)
        self._sync: httpx.Client | None = None

    async def aclose(self) -> None:
        await self._client.aclose()
        if self._sync is not None:
            self._sync.close()

    async def get_in_thread(self, path: str, params: dict[str, str] | None = None) -> str:
        """A GET whose big body is received and decoded in a thread.

        Reading megabytes from a ready socket never yields to the event loop: done there,
        one /clusters of 2,000 clusters stalls the keys by ~100 ms.
        """

        def fetch() -> str:
            if self._sync is None:
                self._sync = http.sync_client(self.base_url, self.timeout)
            with self._errors():
                r = http.released(self._sync.get(path, params=params))
            return self._checked(r, path).text

        return await asyncio.to_thread(fetch)

    async def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return await self._call("GET", path, params)

    async def post(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """A POST that only reads (Envoy lists its log levels on `POST /logging`)."""
        return await self._call("POST", path, params)

    async def change(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """A call that changes the proxy (log levels, counters). The UI asks the user first;
        --read-only is refused here, where the call is made, whoever asks for it."""
        if self.read_only:
            raise ReadOnlyError(f"--read-only: meshtui does not call POST {path} on {self.base_url}")
        return await self._call("POST", path, params)

    async def _call(self, method: str, path: str, params: dict[str, str] | None) -> httpx.Response:
        with self._errors():
            r = http.released(await self._client.request(method, path, params=params))
        return self._checked(r, path)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return http.failures(
            AdminError,
            "Envoy admin",
            self.base_url,
            "connection refused (is Envoy running, is the forward up?)",
        )

    @staticmethod
    def _checked(r: httpx.Response, path: str) -> httpx.Response:
        if r.status_code != 200:
            # Envoy's error answers run over several lines: all of it, on one line
            first = http.first_line(r, 300)
            raise AdminError(f"Envoy admin answered {r.status_code} on {path}: {first}", r.status_code)
        return r

    async def stats_text(self, envoy_filter: str | None = None) -> str:
        params = {"filter": envoy_filter} if envoy_filter else {}
        return (await self.get("/stats", params or None)).text

    async def stats_typed_bodies(self, in_thread: bool = True) -> dict[StatKind, str]:
        """Every stat, as one text body per kind (`/stats?type=`): megabytes on a big
        sidecar, so received off the event loop unless known to be small."""
        out: dict[StatKind, str] = {}
        for kind, label in TYPED.items():
            params = {"type": label}
            out[kind] = await (self.get_in_thread("/stats", params) if in_thread else self.stats_get(params))
        return out

    async def stats_get(self, params: dict[str, str]) -> str:
        return (await self.get("/stats", params)).text

    async def stats_used(self, kind: StatKind, in_thread: bool = False) -> str:
        """The stats of one kind written at least once (`/stats?usedonly&type=`)."""
        params = {"usedonly": "", "type": TYPED[kind]}
        return await (self.get_in_thread("/stats", params) if in_thread else self.stats_get(params))

    async def clusters_json(self) -> str:
        # thousands of clusters are megabytes: receive them off the event loop
        return await self.get_in_thread("/clusters", {"format": "json"})

    async def config_dump(self, params: dict[str, str] | None = None) -> str:
        return (await self.get("/config_dump", params)).text

    async def stat_kinds(self, envoy_filter: str | None = None) -> StatKinds:
        """Which stats are counters and which gauges (Envoy's `/stats?type=`)."""

        async def names(kind: str) -> frozenset[str]:
            params = {"type": kind}
            if envoy_filter:
                params["filter"] = envoy_filter
            text = (await self.get("/stats", params)).text
            return frozenset(line.partition(": ")[0] for line in text.splitlines() if line)

        return StatKinds(gauges=await names("Gauges"), counters=await names("Counters"))
