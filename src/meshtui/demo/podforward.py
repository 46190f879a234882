"""The kubelet's side of a websocket port-forward, as the simulated API server serves it.

Subprotocol negotiation follows apimachinery's wsstream/conn.go `handshake` (now
k8s.io/streaming): the kubelet (pkg/cri/streaming/portforward/websocket.go) speaks
"" (no protocol offered), `v4.channel.k8s.io` (binary frames, channel byte first)
and `v4.base64.channel.k8s.io` (text frames, channel as an ASCII digit, base64
payload); the first offered protocol it speaks wins, in the client's order. When
none matches, golang.org/x/net/websocket's server answers the handshake error
with a bare `403 Forbidden`: no Status body, no headers of its own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from meshtui.demo.apiserver import SimApiServer
    from meshtui.demo.simpod import SimPod

BINARY = "v4.channel.k8s.io"
BASE64 = "v4.base64.channel.k8s.io"
SUPPORTED = ("", BINARY, BASE64)  # websocket.go's map given to wsstream.NewConn
POD_CLOSE_GRACE = 1.0  # seconds the runtime waits for the other direction (see carry)


@dataclass(eq=False)
class ForwardStream:
    """One open port-forward connection: its websocket, the writer to the pod's side, whose
    pod it reaches, and the request (whose transport `drop_forwards` cuts)."""

    ws: web.WebSocketResponse
    writer: asyncio.StreamWriter
    pod: tuple[str, str]
    request: web.Request


def v4_ports(values: list[str]) -> tuple[list[int], str]:
    """The `ports` query as websocket.go NewV4Options reads it, checked before the upgrade:
    (ports, "") or ([], the kubelet's 400 text)."""
    if not values:
        return [], 'query parameter "port" is required'
    ports = []
    for value in values:
        if not value:
            return [], 'query parameter "port" cannot be empty'
        for part in value.split(","):
            why = "" if part.isdigit() else "invalid syntax"
            why = why or ("value out of range" if int(part) > 65535 else "")
            if why:
                parse = f'strconv.ParseUint: parsing "{part}": {why}'
                return [], f'unable to parse "{value}" as a port: {parse}'
            if int(part) < 1:
                return [], f'port "{value}" must be > 0'
            ports.append(int(part))
    return ports, ""


def negotiate(header: str) -> str | None:
    """conn.go handshake: the first offered protocol the kubelet speaks, None if none."""
    offered = [p.strip() for p in header.split(",") if p.strip()] or [""]
    return next((p for p in offered if p in SUPPORTED), None)


class Channels:
    """conn.go's codecs: raw (channel byte + data) or base64 (digit + base64 text)."""

    def __init__(self, ws: web.WebSocketResponse, protocol: str) -> None:
        self.ws, self.b64 = ws, protocol == BASE64

    async def send(self, channel: int, data: bytes) -> None:
        if self.b64:
            await self.ws.send_str(chr(ord("0") + channel) + base64.b64encode(data).decode())
        else:
            await self.ws.send_bytes(bytes([channel]) + data)

    def decode(self, frame: str | bytes) -> tuple[int, bytes] | None:
        if not frame:
            return None
        if isinstance(frame, str):
            return (ord(frame[0]) - ord("0"), base64.b64decode(frame[1:])) if self.b64 else None
        return (frame[0], frame[1:]) if not self.b64 else None


async def serve(api: SimApiServer, request: web.Request, pod: SimPod, ports: list[int]) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() != "websocket":
        # the API server's upgrade-aware proxy refuses before the kubelet sees the request
        return web.json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": "Upgrade request required",
                "reason": "BadRequest",
                "code": 400,
            },
            status=400,
        )
    protocol = negotiate(request.headers.get("Sec-WebSocket-Protocol", ""))
    if protocol is None:
        return web.Response(status=403, body=b"")
    ws = web.WebSocketResponse(protocols=(protocol,) if protocol else (), autoping=True)
    await ws.prepare(request)
    chans = Channels(ws, protocol)
    # websocket.go: two channels per requested port, data 2i and error 2i+1, each opened
    # with the port number (little endian); the connection ends when every port's has
    inboxes: dict[int, asyncio.Queue[bytes | None]] = {}
    for i, port in enumerate(ports):
        header = port.to_bytes(2, "little")
        await chans.send(2 * i, header)
        await chans.send(2 * i + 1, header)
        inboxes[2 * i] = asyncio.Queue()
    reading = asyncio.ensure_future(_read(ws, chans, inboxes))
    try:
        await asyncio.gather(
            *(
                _forward(api, request, ws, chans, pod, port, 2 * i, inboxes[2 * i])
                for i, port in enumerate(ports)
            )
        )
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        with contextlib.suppress(Exception):
            await ws.close()
    return ws


class DialError(Exception):
    """The pod does not answer on the port; the text is the kubelet's error line."""


async def dial(pod: SimPod, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The connection to the pod's port, as the runtime dials it inside the pod."""
    target = pod.forwards.get(port)
    try:
        if target is None:
            raise ConnectionRefusedError(111, "connection refused")
        return await asyncio.open_connection("127.0.0.1", target)
    except OSError as exc:
        # byte for byte what a node says: the kubelet's "error forwarding port %d to pod %s,
        # uid %v: %v" (sandbox id, empty uid on the CRI path) around containerd's
        # sandbox_portforward_linux.go, which dials 127.0.0.1 then [::1] in the pod's netns
        # and names both ("... IPv4: %v IPv6 %v ", trailing space included)
        v4 = "connection refused" if isinstance(exc, ConnectionRefusedError) else str(exc)
        v6 = "connection refused" if pod.loopback6 else "cannot assign requested address"
        raise DialError(
            f"error forwarding port {port} to pod {pod.uid}, uid : failed to execute portforward in "
            f'network namespace "/var/run/netns/cni-{pod.uid}": failed to connect to localhost:{port} '
            f'inside namespace "{pod.uid}", IPv4: dial tcp4 127.0.0.1:{port}: connect: {v4} '
            f"IPv6 dial tcp6 [::1]:{port}: connect: {v6} "
        ) from exc


async def carry(api: SimApiServer, stream: ForwardStream, into: Any, out: Any) -> None:
    """Both directions of one forwarded connection, as the runtime's PortForward runs them
    (containerd's sandbox_portforward_linux.go, CRI-O alike): it returns once one direction
    ends plus up to 1 s for the other ("give a chance to terminate gracefully or timeout
    after 1s"); then the kubelet closes the streams without writing an error."""
    api.forward_opened(stream)  # drop_forwards (a kubelet restart, a pod deleted) cuts it
    tasks = {asyncio.ensure_future(into), asyncio.ensure_future(out)}
    try:
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if pending:
            await asyncio.wait(pending, timeout=POD_CLOSE_GRACE)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        stream.writer.close()
        api.forward_closed(stream)


async def _forward(
    api: SimApiServer,
    request: web.Request,
    ws: web.WebSocketResponse,
    chans: Channels,
    pod: SimPod,
    port: int,
    channel: int,
    inbox: asyncio.Queue[bytes | None],
) -> None:
    try:
        reader, writer = await dial(pod, port)
    except DialError as exc:
        await chans.send(channel + 1, str(exc).encode())
        return
    # then websocket.go's portForward ends and conn.Close() sends a normal (1000) close frame
    stream = ForwardStream(ws, writer, (pod.namespace, pod.name), request)
    await carry(api, stream, pump_in(inbox, writer), _pump_out(reader, chans, channel))


async def _read(
    ws: web.WebSocketResponse, chans: Channels, inboxes: dict[int, asyncio.Queue[bytes | None]]
) -> None:
    """The client's frames to each port's inbox, by data channel; the end to all of them."""
    try:
        with contextlib.suppress(ConnectionError, RuntimeError, ValueError):
            async for frame in ws:
                if frame.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break
                got = chans.decode(frame.data) if frame.type in (WSMsgType.BINARY, WSMsgType.TEXT) else None
                if got and got[0] in inboxes:
                    inboxes[got[0]].put_nowait(got[1])
    finally:
        for inbox in inboxes.values():
            inbox.put_nowait(None)


async def pump_in(inbox: asyncio.Queue[bytes | None], writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        while (chunk := await inbox.get()) is not None:
            writer.write(chunk)
            await writer.drain()


async def _pump_out(reader: asyncio.StreamReader, chans: Channels, channel: int) -> None:
    with contextlib.suppress(ConnectionError, RuntimeError):
        while chunk := await reader.read(65536):
            await chans.send(channel, chunk)
