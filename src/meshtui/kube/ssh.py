"""Reach a remote host's API server through one SSH connection (`meshtui --ssh HOST`).

The users' kind cluster listens only on the remote host's loopback (kind's 127.0.0.1:34329).
One asyncssh connection carries everything: for each address the kubeconfig names, a local
listener on 127.0.0.1 (never another address) opens a direct-tcpip channel over that one
connection to the address *as the remote host sees it*. The kubernetes client (urllib3 in
its thread), every port-forward websocket and the headless commands just connect to the
local port; TLS runs end to end inside the channel, verified against the kubeconfig's CA
with the original server name (`tls_server_name`), so the SSH host never sees plain text.

Host keys are checked as OpenSSH checks them, with all its known_hosts files and ProxyJump
hops (kube/ssh_hostkeys.py): an unknown or a changed key refused with one line;
`accept_new` is OpenSSH's `StrictHostKeyChecking accept-new`. ~/.ssh/config is read by
asyncssh (Host aliases, HostName, User, Port, IdentityFile), keys come from the agent too.

The remote kubeconfig is read over SFTP by kube/remote_kubeconfig.py.

A dropped connection is re-opened with backoff (0.25 s doubling to 5 s); the state goes to
`on_change` for the status line, and the clients above reconnect through the same ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import asyncssh

from meshtui.kube import ssh_hostkeys as hostkeys
from meshtui.kube.config import KubeError, KubeTarget
from meshtui.live import Backoff

# asyncssh logs connection events; with no handler Python's last-resort handler would print
# its warnings onto the TUI's screen (and a log is no place for host names and users anyway)
logging.getLogger("asyncssh").addHandler(logging.NullHandler())


class SshError(KubeError):
    """The SSH side failed (host key, auth, network); the text is one line for a user."""


class SshState(str, Enum):
    CONNECTING = "connecting"
    UP = "up"
    RECONNECTING = "reconnecting"
    CLOSED = "closed"


LOST = "connection lost"


@dataclass(frozen=True, slots=True)
class SshStatus:
    destination: str
    state: SshState
    reason: str = ""
    since: float = 0.0
    connects: int = 0  # SSH connections opened so far (1 = never dropped)

    @property
    def line(self) -> str:
        if self.state == SshState.RECONNECTING and self.reason == LOST:
            return f"SSH connection to {self.destination} lost, reconnecting"
        text = f"ssh {self.destination} {self.state.value}"
        return text + (f" ({self.reason})" if self.reason and self.state != SshState.UP else "")


def parse_destination(text: str) -> tuple[str, str | None, int | None]:
    """`[user@]host[:port]` → (host, user, port); host may be a ~/.ssh/config alias."""
    try:
        return hostkeys.parse_destination(text)
    except ValueError as exc:
        raise SshError(f"--ssh {exc}") from exc


class SshTunnel:
    """One SSH connection, re-opened when it drops, and the local listeners riding on it."""

    def __init__(
        self,
        destination: str,
        *,
        accept_new: bool = False,
        on_change: Callable[[SshStatus], None] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.destination = destination
        self.host, self.user, self.port = parse_destination(destination)
        self.accept_new = accept_new
        self.on_change = on_change
        self.connect_timeout = connect_timeout
        self._conn: asyncssh.SSHClientConnection | None = None
        self._up = asyncio.Event()
        self._state = SshState.CONNECTING
        self._reason = ""
        self._since = time.monotonic()
        self._connects = 0
        self._servers: dict[tuple[str, int], asyncio.Server] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._supervisor: asyncio.Task[None] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._hops: list[asyncssh.SSHClientConnection] = []  # ProxyJump connections under it

    # -- public ------------------------------------------------------------------------

    @property
    def status(self) -> SshStatus:
        return SshStatus(self.destination, self._state, self._reason, self._since, self._connects)

    async def start(self) -> SshTunnel:
        """Open the first connection; a refused host key or login raises SshError (no retry)."""
        self._conn = await self._open()
        self._connected()
        self._supervisor = asyncio.ensure_future(self._supervise())
        return self

    async def read_file(self, path: str) -> bytes:
        """A file on the remote host over SFTP; `~/x` and relative paths are from the home dir."""
        conn = await self._ready()
        remote = path[2:] if path.startswith("~/") else path
        try:
            async with conn.start_sftp_client() as sftp, sftp.open(remote, "rb") as f:
                data = await f.read()
                return data if isinstance(data, bytes) else data.encode()
        except asyncssh.SFTPNoSuchFile as exc:
            raise SshError(f"no {path} on {self.destination} (give --kubeconfig as a remote path)") from exc
        except (asyncssh.Error, OSError) as exc:
            raise SshError(f"cannot read {path} on {self.destination}: {_reason(exc)}") from exc

    async def listen(self, host: str, port: int) -> int:
        """A 127.0.0.1 port whose connections go to host:port as the remote host sees it."""
        key = (host, port)
        server = self._servers.get(key)
        if server is None:

            async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                await self._carry(reader, writer, host, port)

            server = await asyncio.start_server(accept, host="127.0.0.1", port=0)
            self._servers[key] = server
        return int(server.sockets[0].getsockname()[1])

    async def route(self, target: KubeTarget) -> KubeTarget:
        """The same kubeconfig target, its API server reached through this connection."""
        url = urllib.parse.urlsplit(target.server)
        if not url.hostname:
            raise SshError(f"kubeconfig server {target.server!r} has no host")
        https = url.scheme == "https"
        local = await self.listen(url.hostname, url.port or (443 if https else 80))
        cfg = target.configuration
        cfg.host = urllib.parse.urlunsplit((url.scheme, f"127.0.0.1:{local}", url.path, "", ""))
        cfg.proxy = None  # the SSH connection is the way there; a proxy-url is the remote host's
        if https and not getattr(cfg, "tls_server_name", None):
            # verify the certificate for the name the kubeconfig gave, not for 127.0.0.1:<local>
            cfg.tls_server_name = url.hostname
        via = f"ssh {self.destination}"
        return dataclasses.replace(target, server=cfg.host, via=via, origin=target.server)

    def private_dir(self) -> Path:
        """A 0700 temporary directory removed on close (the remote kubeconfig's copy)."""
        if self._tmpdir is None:
            self._tmpdir = tempfile.TemporaryDirectory(prefix="meshtui-ssh-")
        return Path(self._tmpdir.name)

    async def close(self) -> None:
        self._set(SshState.CLOSED, "")
        if self._supervisor is not None:
            self._supervisor.cancel()
            await asyncio.gather(self._supervisor, return_exceptions=True)
        for server in self._servers.values():
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._conn is not None:
            self._conn.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._conn.wait_closed(), 2)
        self._close_hops()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    # -- the connection ------------------------------------------------------------------

    def _set(self, state: SshState, reason: str) -> None:
        if (state, reason) == (self._state, self._reason):
            return
        self._state, self._reason, self._since = state, reason, time.monotonic()
        if self.on_change is not None:
            self.on_change(self.status)

    def _connected(self) -> None:
        self._connects += 1
        self._up.set()
        self._set(SshState.UP, "")

    async def _open(self) -> asyncssh.SSHClientConnection:
        where = f"ssh {self.destination}"
        self._close_hops()  # a reconnect opens its hops anew
        try:
            return await hostkeys.connect(
                self.host,
                self.port,
                self.user,
                accept_new=self.accept_new,
                on_hop=self._hops.append,
                connect_timeout=self.connect_timeout,
                # a silently dead link (laptop asleep, NAT timeout) is noticed within ~15 s
                keepalive_interval=5,
                keepalive_count_max=3,
            )
        except hostkeys.HostKeyRefused as exc:
            raise SshError(f"{where}: {exc}") from exc
        except asyncssh.PermissionDenied as exc:
            locked = hostkeys.encrypted_identity(self.host)
            if locked:
                raise SshError(
                    f"{where}: permission denied; key {locked} is encrypted: "
                    f"add it to ssh-agent (ssh-add {locked})"
                ) from exc
            raise SshError(f"{where}: permission denied (no key in the agent or ~/.ssh accepted)") from exc
        except (asyncssh.Error, ValueError) as exc:
            raise SshError(f"{where}: {_reason(exc)}") from exc
        except asyncio.TimeoutError as exc:
            raise SshError(f"{where}: no answer within {self.connect_timeout:g} s") from exc
        except OSError as exc:
            raise SshError(f"{where}: {_reason(exc)}") from exc

    def _close_hops(self) -> None:
        for hop in reversed(self._hops):
            hop.close()
        self._hops.clear()

    async def _supervise(self) -> None:
        """Wait for the connection to drop, then re-open it with backoff until closed."""
        while self._state != SshState.CLOSED:
            assert self._conn is not None
            await self._conn.wait_closed()
            if self._state == SshState.CLOSED:
                return
            self._up.clear()
            self._set(SshState.RECONNECTING, LOST)
            backoff = Backoff()  # the one back-off rule (meshtui/live.py), capped at 5 s
            while self._state != SshState.CLOSED:
                try:
                    self._conn = await self._open()
                except SshError as exc:
                    self._set(SshState.RECONNECTING, str(exc).split(": ", 1)[-1])
                    await asyncio.sleep(backoff.failed())
                    continue
                self._connected()
                break

    async def _ready(self) -> asyncssh.SSHClientConnection:
        """The live connection, waiting (up to the connect timeout) while it is re-opened."""
        if not self._up.is_set():
            try:
                await asyncio.wait_for(self._up.wait(), self.connect_timeout)
            except asyncio.TimeoutError as exc:
                raise SshError(f"ssh {self.destination}: {self._reason or 'not connected'}") from exc
        assert self._conn is not None
        return self._conn

    async def _carry(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            try:
                if self._state == SshState.RECONNECTING:
                    # closed at once, not held until the SSH connection is back: the forward
                    # and the views behind it see the failure on their next poll (stale
                    # then), rather than looking live while a request waits up to 10 s
                    return
                conn = await self._ready()
                remote_reader, remote_writer = await conn.open_connection(host, port)
            except (SshError, asyncssh.Error, OSError):
                return  # the client sees the connection close and retries on its own schedule

            async def pipe(src: Any, dst: Any) -> None:
                with contextlib.suppress(Exception):
                    while chunk := await src.read(65536):
                        dst.write(chunk)
                        await dst.drain()
                with contextlib.suppress(Exception):
                    dst.write_eof()

            # either side ending ends the stream (HTTP and websockets need no half-close)
            ways = {
                asyncio.ensure_future(pipe(reader, remote_writer)),
                asyncio.ensure_future(pipe(remote_reader, writer)),
            }
            try:
                await asyncio.wait(ways, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for way in ways:
                    way.cancel()
                await asyncio.gather(*ways, return_exceptions=True)
                remote_writer.close()
        except asyncio.CancelledError:
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError) or "Connect call failed" in str(exc):
        return "connection refused (is sshd running there?)"  # asyncio's text names our own socket call
    text = getattr(exc, "reason", "") or getattr(exc, "strerror", "") or str(exc) or type(exc).__name__
    return str(text).strip().splitlines()[0][:160]
