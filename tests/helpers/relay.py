"""A loopback TCP relay in front of a real source (an Envoy admin, istiod's 15014, Jaeger's
query port) that a test can cut and restore: "the source stopped answering", with
nothing simulated but the outage itself."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Relay:
    """A loopback TCP relay to a real Envoy admin that the test can cut and restore."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._conns: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._conns |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for w in self._conns:
            w.close()
        self._conns.clear()


@contextlib.asynccontextmanager
async def relay_to(admin_url: str) -> AsyncIterator[tuple[Relay, str]]:
    relay = Relay(int(admin_url.rsplit(":", 1)[1]))
    url = await relay.start()
    try:
        yield relay, url
    finally:
        await relay.cut()
