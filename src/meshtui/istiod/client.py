"""An async client for one istiod replica's monitoring port (15014), with human errors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from meshtui.istiod.metrics import IstiodError
from meshtui.responses import released

MONITORING_PORT = 15014


class MonitoringClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=1),
            trust_env=False,  # never send loopback calls through an HTTP proxy
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def get(self, path: str, params: dict[str, str] | None = None) -> str:
        with self._errors():
            r = released(await self._client.get(path, params=params))
        if r.status_code != 200:
            first = r.text.strip().splitlines()[0][:160] if r.text.strip() else r.reason_phrase
            raise IstiodError(f"istiod answered {r.status_code} on {path}: {first}")
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

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError as exc:
            raise IstiodError(f"cannot connect to istiod at {self.base_url}: {_why(exc)}") from exc
        except httpx.TimeoutException as exc:
            raise IstiodError(f"istiod at {self.base_url} did not answer in time") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise IstiodError(f"connection to istiod at {self.base_url} dropped") from exc
        except httpx.HTTPError as exc:
            raise IstiodError(f"istiod at {self.base_url}: {type(exc).__name__}") from exc


def _why(exc: Exception) -> str:
    text = str(exc)
    if "refused" in text.lower() or "all connection attempts failed" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:120] if text else type(exc).__name__
