"""An async client for one Envoy admin endpoint (port 15000), with human errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import httpx

from meshtui.envoy.stats import StatKind
from meshtui.envoy.stats_catalog import TYPED_BODIES as TYPED
from meshtui.envoy.tracker import StatKinds
from meshtui.responses import released


class AdminError(Exception):
    """Envoy's admin API could not answer; the text is one line for the pane."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ServerInfo:
    version: str
    state: str
    uptime: str
    node_id: str


class EnvoyAdmin:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._options = {
            "base_url": self.base_url,
            "timeout": httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            "limits": httpx.Limits(max_connections=2, max_keepalive_connections=1),
            "trust_env": False,  # never send loopback admin calls through an HTTP proxy
        }
        self._client = httpx.AsyncClient(**self._options)  # type: ignore[arg-type]
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
                self._sync = httpx.Client(**self._options)  # type: ignore[arg-type]
            with self._errors(path):
                r = released(self._sync.get(path, params=params))
            return self._checked(r, path).text

        return await asyncio.to_thread(fetch)

    async def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return await self._call("GET", path, params)

    async def post(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """A call that changes the proxy: callers ask the user first (and honour --read-only)."""
        return await self._call("POST", path, params)

    async def _call(self, method: str, path: str, params: dict[str, str] | None) -> httpx.Response:
        with self._errors(path):
            r = released(await self._client.request(method, path, params=params))
        return self._checked(r, path)

    @contextlib.contextmanager
    def _errors(self, path: str) -> Iterator[None]:
        """httpx's exceptions, each as one line a pane can show."""
        try:
            yield
        except httpx.ConnectError as exc:
            raise AdminError(f"cannot connect to Envoy admin at {self.base_url}: {_why(exc)}") from exc
        except httpx.TimeoutException as exc:
            raise AdminError(f"Envoy admin at {self.base_url} did not answer in time") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise AdminError(f"connection to Envoy admin at {self.base_url} dropped") from exc
        except httpx.HTTPError as exc:
            raise AdminError(f"Envoy admin at {self.base_url}: {type(exc).__name__}") from exc

    @staticmethod
    def _checked(r: httpx.Response, path: str) -> httpx.Response:
        if r.status_code != 200:
            # Envoy's error answers run over several lines: all of it, on one line
            first = " ".join(r.text.split())[:300] if r.text.strip() else r.reason_phrase
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

    async def stats_json(self, envoy_filter: str | None = None) -> str:
        params = {"format": "json"}
        if envoy_filter:
            params["filter"] = envoy_filter
        return (await self.get("/stats", params)).text

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

    async def server_info(self) -> ServerInfo:
        try:
            doc = (await self.get("/server_info")).json()
        except ValueError as exc:
            raise AdminError("Envoy /server_info is not JSON") from exc
        return ServerInfo(
            version=str(doc.get("version", "")).split("/")[1]
            if "/" in str(doc.get("version", ""))
            else str(doc.get("version", "")),
            state=str(doc.get("state", "")),
            uptime=str(doc.get("uptime_current_epoch", "")),
            node_id=str(doc.get("node", {}).get("id", "")),
        )


def _why(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower() or "all connection attempts failed" in text.lower():
        return "connection refused (is Envoy running, is the forward up?)"
    return text.splitlines()[0][:120] if text else type(exc).__name__
