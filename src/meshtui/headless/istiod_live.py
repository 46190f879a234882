"""One live read of every istiod replica's monitoring port (15014) through port-forwards."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from meshtui.headless import CommandError
from meshtui.istiod.client import MonitoringClient
from meshtui.istiod.metrics import IstiodError


async def _read(args: Any, read: Callable[[MonitoringClient], Awaitable[str]]) -> tuple[list[str], list[str]]:
    from meshtui.istiod.source import ForwardedIstiod
    from meshtui.kube import config
    from meshtui.kube.portforward import ForwardManager

    tunnel = None
    if getattr(args, "ssh", None):  # the cluster behind an SSH host, as the other commands reach it
        from meshtui.kube import ssh
        from meshtui.kube.remote_kubeconfig import open_target

        tunnel = await ssh.SshTunnel(args.ssh, accept_new=args.ssh_accept_new).start()
        try:
            target = await open_target(tunnel, args.kubeconfig, args.context)
        except BaseException:
            await tunnel.close()
            raise
    else:
        target = config.load(args.kubeconfig, args.context)
    manager = ForwardManager(target)
    source = ForwardedIstiod(target, manager, args.istio_namespace)
    try:
        names, bodies = [], []
        for name, url in await source.replicas():
            client = MonitoringClient(url)
            try:
                bodies.append(await read(client))
            finally:
                await client.aclose()
            names.append(name)
        return names, bodies
    finally:
        await source.close()
        await manager.close()
        if tunnel is not None:
            await tunnel.close()


def scrape_replicas(
    args: Any, read: Callable[[MonitoringClient], Awaitable[str]]
) -> tuple[list[str], list[str]]:
    """(replica names, bodies); every known failure is a CommandError (one line, exit 2)."""
    from meshtui.kube.config import KubeError
    from meshtui.kube.portforward import PortForwardError

    if not args.live:
        raise CommandError(f"{args.command} needs --file PATH or live")
    try:
        return asyncio.run(_read(args, read))
    except (IstiodError, KubeError, PortForwardError) as exc:
        raise CommandError(str(exc)) from exc
