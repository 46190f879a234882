"""One connection to the cluster, for the app and the headless commands alike: the
kubeconfig's target, directly or behind `--ssh HOST` through one SSH connection, and the
ForwardManager every view shares. Opened once; closed once, forwards first, then the
tunnel they ride on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshtui.kube.access import MeshAccess
from meshtui.kube.forward_status import ForwardStatus

if TYPE_CHECKING:  # the kubernetes client and asyncssh load with the connection, not the app
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.ssh import SshTunnel


@dataclass(frozen=True)
class ClusterSpec:
    """Where the user said the cluster is (--kubeconfig, --context, --ssh)."""

    kubeconfig: str | None = None
    context: str | None = None
    ssh: str | None = None
    ssh_accept_new: bool = False

    @classmethod
    def from_args(cls, args: Any) -> ClusterSpec:
        return cls(
            getattr(args, "kubeconfig", None),
            getattr(args, "context", None),
            getattr(args, "ssh", None),
            bool(getattr(args, "ssh_accept_new", False)),
        )


class ClusterConnection:
    """`open()` gives the `MeshAccess` (raises `KubeError`, `SshError` included, one line);
    `on_forwards` hears every forward's change, `on_ssh` the tunnel's line (None: up)."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        on_forwards: Callable[[ForwardStatus], None] | None = None,
        on_ssh: Callable[[str | None], None] | None = None,
    ) -> None:
        self.spec = spec
        self.on_forwards, self.on_ssh = on_forwards, on_ssh
        self.tunnel: SshTunnel | None = None
        self.access: MeshAccess | None = None
        self._closed = False

    async def _target(self) -> KubeTarget:
        from meshtui.kube import config

        spec = self.spec
        if not spec.ssh:  # reading the kubeconfig may run an exec plugin: off the event loop
            return await asyncio.to_thread(config.load, spec.kubeconfig, spec.context)
        from meshtui.kube import ssh
        from meshtui.kube.remote_kubeconfig import open_target

        def changed(status: ssh.SshStatus) -> None:
            if self.on_ssh is not None:
                self.on_ssh(None if status.state == ssh.SshState.UP else status.line)

        self.tunnel = ssh.SshTunnel(spec.ssh, accept_new=spec.ssh_accept_new, on_change=changed)
        await self.tunnel.start()
        return await open_target(self.tunnel, spec.kubeconfig, spec.context)

    async def open(self) -> MeshAccess:
        from meshtui.kube.portforward import ForwardManager

        target = await self._target()
        self.access = MeshAccess(target, ForwardManager(target, on_change=self.on_forwards))
        return self.access

    def forwards(self) -> tuple[ForwardStatus, ...]:
        return tuple(self.access.manager.statuses()) if self.access is not None else ()

    async def close(self) -> None:
        """Once; what was opened stays readable after (a closed forward, a CLOSED tunnel)."""
        if self._closed:
            return
        self._closed = True
        if self.access is not None:
            await self.access.manager.close()
        if self.tunnel is not None:
            await self.tunnel.close()


@contextlib.asynccontextmanager
async def connected(spec: ClusterSpec) -> AsyncIterator[MeshAccess]:
    """The cluster for one block (a headless command); everything is closed when it ends."""
    connection = ClusterConnection(spec)
    try:
        yield await connection.open()
    finally:
        await connection.close()
