"""Port-forwards to pod ports through the API server, like `kubectl port-forward`.

Each forward listens on 127.0.0.1 (never another address) and carries every
local TCP connection over its own websocket to
`/api/v1/namespaces/NS/pods/POD/portforward?ports=P`, speaking
`v4.channel.k8s.io`: after the upgrade the server sends, per channel, one frame
with the port number (little-endian); then channel 0 carries data both ways and
channel 1 carries an error text from the kubelet.

A `ForwardManager` keeps one forward per (pod, port), shared by every user,
tracks its state (up / reconnecting / failed + why), probes it with backoff after
a failure, and closes it when its last user releases it or its pod is deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException

from meshtui.kube.forward_reasons import (
    PROTOCOL,
    kubelet_error,
    network_reason,
    pod_side_close,
    rejection,
)
from meshtui.kube.forward_status import ForwardState, ForwardStatus
from meshtui.live import Backoff

if TYPE_CHECKING:  # the kubernetes client: loaded with the kubeconfig, after the first frame
    from meshtui.kube.config import KubeTarget

DATA, ERROR = 0, 1


class PortForwardError(Exception):
    """The API server or kubelet refused or dropped a forward; the text says why."""


class PortForward:
    """One local 127.0.0.1 listener carried to one pod port."""

    def __init__(
        self,
        target: KubeTarget,
        namespace: str,
        pod: str,
        port: int,
        on_change: Callable[[ForwardStatus], None] | None = None,
        connect_timeout: float = 5.0,
    ) -> None:
        self.target = target
        self.namespace, self.pod, self.port = namespace, pod, port
        self.on_change = on_change
        self.connect_timeout = connect_timeout
        self.local_port = 0
        self.users = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._state = ForwardState.STARTING
        self._reason = ""
        self._since = time.monotonic()
        self._streams = 0
        self._backoff = Backoff()  # the one back-off rule (meshtui/live.py), capped at 5 s
        self._retry_at = 0.0

    # -- public ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    @property
    def status(self) -> ForwardStatus:
        return ForwardStatus(
            self.namespace,
            self.pod,
            self.port,
            self.local_port,
            self._state,
            self._reason,
            self._since,
            self._streams,
        )

    async def start(self) -> PortForward:
        self._server = await asyncio.start_server(self._accept, host="127.0.0.1", port=0)
        self.local_port = self._server.sockets[0].getsockname()[1]
        return self

    async def probe(self, settle: float = 0.5) -> bool:
        """Open a stream, read the kubelet's port frames, then give it `settle` seconds to
        report on the error channel: the kubelet writes the port frames *before* it dials
        the pod port (pkg/cri/streaming/portforward/websocket.go), so the frames alone do
        not prove the port answers; a refused dial comes back as text a moment later."""
        try:
            ws = await self._open()
        except PortForwardError:
            return False
        try:
            frame = await asyncio.wait_for(ws.recv(), settle)
            if isinstance(frame, bytes) and frame[:1] == bytes([ERROR]) and len(frame) > 1:
                self._refused(kubelet_error(frame[1:]))
                return False
        except asyncio.TimeoutError:
            pass  # silence: the dial went through
        except WebSocketException:
            self._fail("stream closed by the API server right after the handshake")
            return False
        finally:
            await ws.close()
        self._up()
        return True

    async def _heal(self) -> None:
        """Probe until a stream opens again (each failure pushes the next try back)."""
        while self._state in (ForwardState.RECONNECTING, ForwardState.STARTING):
            await asyncio.sleep(max(self._retry_at - time.monotonic(), 0.05))
            if await self.probe():
                return

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._set(ForwardState.CLOSED, "")
        if self._server:
            self._server.close()  # no new connections
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server:
            # only now: since Python 3.12 wait_closed() waits for every open connection,
            # and a client's keep-alive connection ends only when its task above does
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    # -- internals ---------------------------------------------------------------------

    def _set(self, state: ForwardState, reason: str) -> None:
        if state == self._state and reason == self._reason:
            return
        self._state, self._reason, self._since = state, reason, time.monotonic()
        if self.on_change:
            self.on_change(self.status)

    def _ws_url(self) -> str:
        base = self.target.server.rstrip("/")
        scheme, rest = base.split("://", 1)
        path = (
            f"/api/v1/namespaces/{urllib.parse.quote(self.namespace)}/pods/"
            f"{urllib.parse.quote(self.pod)}/portforward?ports={self.port}"
        )
        return ("wss" if scheme == "https" else "ws") + "://" + rest + path

    async def _open(self, retry_auth: bool = True) -> ClientConnection:
        if self._state == ForwardState.CLOSED:
            raise PortForwardError("forward closed")
        now = time.monotonic()
        if now < self._retry_at:
            raise PortForwardError(self._reason or "reconnecting")
        try:  # an exec plugin may run for this: never on the event loop
            if self.target.auth_may_block():
                headers = await asyncio.to_thread(self.target.headers)
            else:  # a certificate or a fixed token: no thread hop per stream
                headers = self.target.headers()
        except Exception as exc:
            self._fail(f"credentials: {str(exc).strip()[:160]}", permanent=True)
            raise PortForwardError(self._reason) from exc
        auth = next((value for name, value in headers if name == "Authorization"), None)
        # the proxy as the list and watch use it (kube/proxy.py); None stops websockets
        # from reading the environment its own way
        extra: dict[str, Any] = {"proxy": self.target.proxy_url()}
        server_name = self.target.tls_server_name()
        if server_name and self._ws_url().startswith("wss:"):
            # through an SSH tunnel the URL says 127.0.0.1:<local>: verify the kubeconfig's name
            extra["server_hostname"] = server_name
        try:
            ws = await asyncio.wait_for(
                connect(
                    self._ws_url(),
                    subprotocols=[PROTOCOL],  # type: ignore[list-item]
                    additional_headers=headers,
                    ssl=self.target.ssl_context(),
                    max_size=None,
                    open_timeout=self.connect_timeout,
                    ping_interval=20,
                    ping_timeout=20,
                    # ending a stream sends a close frame and waits this long for the
                    # kubelet's, which comes only after the runtime's 1 s grace: closing
                    # a forward must not wait for that
                    close_timeout=0.2,
                    compression=None,
                    **extra,
                ),
                self.connect_timeout,
            )
            await asyncio.wait_for(self._read_port_frames(ws), self.connect_timeout)
        except InvalidStatus as exc:
            if exc.response.status_code == 401 and retry_auth:
                renewed, why = await self._refreshed(auth)
                if renewed:
                    return await self._open(retry_auth=False)  # once, with the new credential
                if why:
                    renew = "the exec plugin could not renew them"
                    self._fail(f"API server rejected the credentials (401); {renew}: {why}", permanent=True)
                    raise PortForwardError(self._reason) from exc
            self._fail(rejection(exc, PROTOCOL), permanent=exc.response.status_code in (401, 403, 404))
            raise PortForwardError(self._reason) from exc
        except PortForwardError as exc:
            self._fail(str(exc))
            raise
        except (OSError, asyncio.TimeoutError, WebSocketException) as exc:
            self._fail(network_reason(exc, self.target.shown))
            raise PortForwardError(self._reason) from exc
        self._streams += 1
        return ws

    async def _refreshed(self, rejected: str | None) -> tuple[bool, str]:
        """A 401: ask the kubeconfig user for a new credential (an exec plugin runs again).
        (renewed, why not) -- `why` is the plugin's own first line when it failed."""
        try:
            return bool(await asyncio.to_thread(self.target.refresh_credentials, rejected)), ""
        except Exception as exc:
            return False, " ".join(str(exc).split())[:200]

    def _up(self) -> None:
        """The pod side answered (a probe settled quietly, or data came back)."""
        self._backoff.reset()
        self._retry_at = 0.0
        self._set(ForwardState.UP, "")

    def _refused(self, reason: str) -> None:
        # the kubelet dialled the pod port and nothing listens: no stream retry fixes that,
        # so say failed now (a new request still tries again, after the backoff)
        self._fail(reason, permanent="connection refused" in reason)

    async def _read_port_frames(self, ws: ClientConnection) -> None:
        seen: set[int] = set()
        while seen != {DATA, ERROR}:
            frame = await ws.recv()
            if not isinstance(frame, bytes) or not frame:
                raise PortForwardError("unexpected text frame from the API server")
            channel = frame[0]
            if channel in seen and channel == ERROR:
                raise PortForwardError(kubelet_error(frame[1:]))
            if len(frame) != 3 or int.from_bytes(frame[1:3], "little") != self.port:
                raise PortForwardError(f"bad port-forward handshake on channel {channel}")
            seen.add(channel)

    def _fail(self, reason: str, permanent: bool = False) -> None:
        self._retry_at = time.monotonic() + self._backoff.failed()
        self._set(
            ForwardState.FAILED if permanent or self._backoff.failures > 8 else ForwardState.RECONNECTING,
            reason,
        )

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                ws = await self._open()
            except PortForwardError:
                return
            await self._carry(reader, writer, ws)
        except asyncio.CancelledError:
            pass  # the forward is closing; asyncio would log a cancelled connection callback
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def _carry(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ws: ClientConnection
    ) -> None:
        heard = [time.monotonic()]  # when the pod side last sent anything

        async def upstream() -> None:
            while chunk := await reader.read(65536):
                await ws.send(b"\x00" + chunk)

        async def downstream() -> None:
            async for frame in ws:
                heard[0] = time.monotonic()
                if not isinstance(frame, bytes) or not frame:
                    continue
                if frame[0] == DATA:
                    if self._state != ForwardState.UP:
                        self._up()  # the pod answered: only now is the forward up
                    writer.write(frame[1:])
                    await writer.drain()
                elif frame[0] == ERROR and len(frame) > 1:
                    self._refused(kubelet_error(frame[1:]))
                    return

        up = asyncio.ensure_future(upstream())
        down = asyncio.ensure_future(downstream())
        try:
            done, _ = await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
            if down not in done and not up.cancelled() and up.exception() is None:
                # the local side sent EOF but may still be reading (a half-close: `nc -N`,
                # a client that shuts down writing after its request): keep copying from
                # the pod, as client-go's handleConnection does (portforward.go)
                done = await _until_quiet(down, heard)
            if down in done and self._state == ForwardState.UP and not pod_side_close(down, ws):
                # the API server or kubelet cut the stream under a live client: check the
                # way back now (with backoff) rather than at the next request
                self._set(ForwardState.RECONNECTING, "stream dropped by the API server")
                self._spawn(self._heal())
        except (ConnectionError, WebSocketException):
            pass
        finally:
            for t in (up, down):
                t.cancel()
            await asyncio.gather(up, down, return_exceptions=True)
            with contextlib.suppress(Exception):
                await ws.close()


class ForwardManager:
    """One forward per (namespace, pod, port), shared and reference-counted."""

    def __init__(self, target: KubeTarget, on_change: Callable[[ForwardStatus], None] | None = None):
        self.target = target
        self.on_change = on_change
        self._forwards: dict[tuple[str, str, int], PortForward] = {}
        self._lock = asyncio.Lock()

    def statuses(self) -> list[ForwardStatus]:
        return [f.status for f in self._forwards.values()]

    async def acquire(self, namespace: str, pod: str, port: int) -> PortForward:
        key = (namespace, pod, port)
        async with self._lock:
            fwd = self._forwards.get(key)
            if fwd is None:
                fwd = await PortForward(self.target, namespace, pod, port, self.on_change).start()
                self._forwards[key] = fwd
            fwd.users += 1
            return fwd

    async def release(self, fwd: PortForward) -> None:
        async with self._lock:
            fwd.users -= 1
            last = fwd.users <= 0
            if last:
                self._forwards.pop((fwd.namespace, fwd.pod, fwd.port), None)
        if last:  # outside the lock: closing its streams must not hold up other pods' forwards
            await fwd.close()

    async def pod_deleted(self, namespace: str, pod: str) -> None:
        async with self._lock:
            gone = [self._forwards.pop(k) for k in [k for k in self._forwards if k[:2] == (namespace, pod)]]
        for fwd in gone:
            await fwd.close()

    async def close(self) -> None:
        async with self._lock:
            forwards, self._forwards = list(self._forwards.values()), {}
        for fwd in forwards:
            await fwd.close()


# How long a stream whose local side sent EOF stays open while the pod sends nothing. The
# v4 channel protocol cannot pass the EOF on to the pod, and a client that closed fully
# looks the same here as one that half-closed: without a bound, every connection an HTTP
# client closes would hold its stream until the pod's own idle timeout (an hour for Envoy).
HALF_CLOSE_IDLE = 10.0


async def _until_quiet(down: asyncio.Task[None], heard: list[float]) -> set[asyncio.Task[None]]:
    """Wait for `down` to end, or for the pod to be silent for HALF_CLOSE_IDLE seconds."""
    while not down.done():
        left = HALF_CLOSE_IDLE - (time.monotonic() - heard[0])
        if left <= 0:
            return set()
        await asyncio.wait({down}, timeout=left)
    return {down}
