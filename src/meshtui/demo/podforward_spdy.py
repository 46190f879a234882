"""kubectl's port-forward, as the simulated API server and kubelet serve it: SPDY streams
tunnelled in a websocket (kubectl 1.31+, subprotocol `SPDY/3.1+portforward.k8s.io`).

The streams follow the kubelet's httpstream handler (pkg/kubelet/cri/streaming/portforward
httpstream.go, now k8s.io/cri-streaming): the client opens a pair of streams per forwarded
connection, `streamtype: error` and `streamtype: data`, with the same `requestid` and the
pod `port`; the pod's bytes go both ways on the data stream, a dial failure is written on
the error stream, and both streams end (FIN) when the forward does. Unlike the v4 channel
protocol, SPDY carries half-closes, and the runtime reacts as containerd's and CRI-O's
PortForward do (`io.Copy` both ways, no CloseWrite): a client FIN ends the copy into the
pod, then the pod's answer has 1 s before both close. The ports are in the streams'
headers, so the upgrade needs no `ports` query.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aiohttp import WSMsgType, web

from meshtui.demo import podforward
from meshtui.demo.spdy import GOAWAY, PING, RST_STREAM, SYN_STREAM, Frame, Framer

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer
    from meshtui.demo.simpod import SimPod

TUNNEL = "SPDY/3.1+portforward.k8s.io"  # client-go constants.WebsocketsSPDYTunnelingPortForwardV1


def offered(header: str) -> bool:
    return TUNNEL in [p.strip() for p in header.split(",")]


async def serve(api: SimApiServer, request: web.Request, pod: SimPod) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=(TUNNEL,), autoping=True)
    await ws.prepare(request)
    await Session(api, pod, ws, request).run()
    return ws


class Session:
    """One tunnelled SPDY connection: its streams, paired into forwards."""

    def __init__(
        self, api: SimApiServer, pod: SimPod, ws: web.WebSocketResponse, request: web.Request
    ) -> None:
        self.api, self.pod, self.ws, self.request = api, pod, ws, request
        self.framer = Framer()
        self.inbox: dict[int, asyncio.Queue[bytes | None]] = {}  # data stream -> client bytes
        self.pairs: dict[str, dict[str, int]] = {}  # requestid -> {"error": id, "data": id}
        self.tasks: set[asyncio.Task[None]] = set()
        self.by_stream: dict[int, asyncio.Task[None]] = {}  # error and data stream -> its forward
        self._send_lock = asyncio.Lock()

    async def send(self, data: bytes) -> None:
        async with self._send_lock:  # one frame per message, never interleaved
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.send_bytes(data)

    async def run(self) -> None:
        try:
            async for msg in self.ws:
                if msg.type != WSMsgType.BINARY:
                    if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                        break
                    continue
                for frame in self.framer.feed(msg.data):
                    if not await self.handle(frame):
                        return
        finally:
            for task in self.tasks:
                task.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def handle(self, frame: Frame) -> bool:
        """False when the connection ends (GOAWAY)."""
        if not frame.control:
            queue = self.inbox.get(frame.stream)
            if queue is not None:
                if frame.data:
                    queue.put_nowait(frame.data)
                if frame.fin:
                    queue.put_nowait(None)
        elif frame.kind == SYN_STREAM:
            await self.send(self.framer.syn_reply(frame.stream))
            kind = frame.headers.get("streamtype", "")
            pair = self.pairs.setdefault(frame.headers.get("requestid", ""), {})
            pair[kind] = frame.stream
            if kind == "data":
                self.inbox[frame.stream] = asyncio.Queue()
            if "error" in pair and "data" in pair:
                port = int(frame.headers.get("port") or 0)
                task = asyncio.ensure_future(self.forward(port, pair["error"], pair["data"]))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
                self.by_stream[pair["error"]] = self.by_stream[pair["data"]] = task
        elif frame.kind == PING:
            await self.send(Framer.ping(frame.stream))
        elif frame.kind == RST_STREAM:
            # the client gave up on the stream (its local connection closed): end the forward
            reset = self.by_stream.pop(frame.stream, None)
            if reset is not None:
                reset.cancel()
        elif frame.kind == GOAWAY:
            return False
        return True

    async def forward(self, port: int, error_id: int, data_id: int) -> None:
        try:
            reader, writer = await podforward.dial(self.pod, port)
        except podforward.DialError as exc:  # httpstream.go: on the error stream
            await self.send(Framer.data(error_id, str(exc).encode(), fin=True))
            await self.send(Framer.data(data_id, b"", fin=True))
            return
        try:
            into = podforward.pump_in(self.inbox[data_id], writer)
            stream = podforward.ForwardStream(
                self.ws, writer, (self.pod.namespace, self.pod.name), self.request
            )
            await podforward.carry(self.api, stream, into, self._out_of_pod(reader, data_id))
        finally:
            await self.send(Framer.data(data_id, b"", fin=True))
            await self.send(Framer.data(error_id, b"", fin=True))

    async def _out_of_pod(self, reader: asyncio.StreamReader, data_id: int) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            while chunk := await reader.read(65536):
                await self.send(Framer.data(data_id, chunk))
