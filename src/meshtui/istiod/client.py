"""An async client for one istiod replica's monitoring port (15014), with human errors."""

from __future__ import annotations

from meshtui import http
from meshtui.istiod.metrics import IstiodError

MONITORING_PORT = 15014


class MonitoringClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = http.async_client(self.base_url, timeout)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: dict[str, str] | None = None) -> str:
        with http.failures(IstiodError, "istiod", self.base_url):
            r = http.released(await self._client.get(path, params=params))
        if r.status_code != 200:
            raise IstiodError(f"istiod answered {r.status_code} on {path}: {http.first_line(r)}")
        try:
            return r.text
        except (UnicodeDecodeError, LookupError) as exc:
            raise IstiodError(f"istiod's {path} is not text") from exc

    async def metrics(self) -> str:
        return await self.get("/metrics")

    async def syncz(self) -> str:
        return await self.get("/debug/syncz")

    async def config_dump(self, proxy_id: str) -> str:
        """What istiod would send this proxy (`istioctl proxy-status POD` compares it)."""
        return await self.get("/debug/config_dump", {"proxyID": proxy_id})
