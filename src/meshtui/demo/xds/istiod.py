"""The demo's istiod: the ADS gRPC server and its 15014 monitoring port, on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import grpc
from aiohttp import web
from envoy.service.discovery.v3 import ads_pb2_grpc
from envoy.service.secret.v3 import sds_pb2_grpc

from meshtui.demo.xds.debug_http import monitoring_app
from meshtui.demo.xds.metrics import IstiodMetrics
from meshtui.demo.xds.sds import SecretServer
from meshtui.demo.xds.server import DiscoveryServer


class Istiod:
    def __init__(self) -> None:
        self.metrics = IstiodMetrics()
        self.xds = DiscoveryServer(self.metrics)
        self.grpc_port = 0
        self.monitoring_port = 0
        self._grpc: grpc.aio.Server | None = None
        self._http: web.AppRunner | None = None
        self._synced = asyncio.Event()
        self.xds.on_change = self._synced.set

    async def start(self, grpc_port: int = 0) -> Istiod:
        self._grpc = grpc.aio.server()
        ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(self.xds, self._grpc)
        sds_pb2_grpc.add_SecretDiscoveryServiceServicer_to_server(SecretServer(self._secrets), self._grpc)
        self.grpc_port = self._grpc.add_insecure_port(f"127.0.0.1:{grpc_port}")
        await self._grpc.start()
        self._http = web.AppRunner(monitoring_app(self.xds), access_log=None)
        await self._http.setup()
        site = web.TCPSite(self._http, "127.0.0.1", 0, shutdown_timeout=0.5)
        await site.start()
        self.monitoring_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    def _secrets(self, node_id: str) -> list[dict[str, Any]]:
        proxy = self.xds.proxies.get(node_id)
        return list(proxy.spec.secrets) if proxy else []

    async def wait_synced(self, node_ids: list[str] | None = None, timeout: float = 20.0) -> None:
        """Until every given proxy (default: all known) is connected and has ACKed all it was sent."""
        deadline = time.monotonic() + timeout
        while not self.xds.all_synced(node_ids):
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("proxies did not ACK istiod's push in time")
            self._synced.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._synced.wait(), min(left, 0.5))

    async def stop(self) -> None:
        if self._grpc:
            await self._grpc.stop(grace=0.2)
        if self._http:
            await self._http.cleanup()
