"""One live read of every istiod replica's monitoring port (15014) through port-forwards."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable

from meshtui.headless import CommandError
from meshtui.istiod.client import MonitoringClient
from meshtui.istiod.metrics import IstiodError


async def _read(
    args: argparse.Namespace, read: Callable[[MonitoringClient], Awaitable[str]]
) -> tuple[list[str], list[str]]:
    from meshtui.headless import cluster
    from meshtui.istiod.source import ForwardedIstiod

    async with cluster(args) as (target, manager):  # the kubeconfig's, or behind --ssh
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


def scrape_replicas(
    args: argparse.Namespace, read: Callable[[MonitoringClient], Awaitable[str]]
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
