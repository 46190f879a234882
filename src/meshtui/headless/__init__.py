"""Headless commands for scripts and offline work: print once and exit 0, or one line and exit 2.

Each command reads a saved body (`--file`), a pod's sidecar through a port-forward
(`POD -n NS`), or an Envoy admin URL (`--admin`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from meshtui.envoy.admin import EnvoyAdmin
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager

T = TypeVar("T")
ENVOY_ADMIN_PORT = 15000


class CommandError(Exception):
    """Ends a headless command with one line on stderr and exit status 2."""


def read_text(path: str, what: str) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not text (UTF-8): not a saved {what}") from exc
    if not text.strip():
        raise CommandError(f"{path} is empty: not a saved {what}")
    return text


async def _check_sidecar(target: Any, namespace: str, pod: str) -> None:
    """Before forwarding to 15000: does the pod exist, and has it a sidecar to answer there?"""
    from meshtui.kube.config import describe

    def read() -> Any:
        return target.core().read_namespaced_pod(pod, namespace)

    try:
        found = await asyncio.to_thread(read)
    except Exception as exc:  # the kubernetes client raises many kinds: each becomes one line
        raise CommandError(f"pod {namespace}/{pod}: {describe(exc, target.shown)}") from exc
    spec = found.spec
    names = [c.name for c in (spec.containers or [])] + [c.name for c in (spec.init_containers or [])]
    if "istio-proxy" not in names:
        raise CommandError(f"pod {namespace}/{pod} has no istio-proxy sidecar: no Envoy admin to read")


def print_json(records: Any) -> None:
    sys.stdout.write(json.dumps(records) + "\n")


def print_lines(lines: list[str]) -> None:
    sys.stdout.write("\n".join(lines) + ("\n" if lines else ""))


def table(rows: Sequence[Sequence[str]], header: tuple[str, ...]) -> list[str]:
    """Columns padded like istioctl's tables."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]
    ]


@contextlib.asynccontextmanager
async def cluster(args: argparse.Namespace) -> AsyncIterator[tuple[KubeTarget, ForwardManager]]:
    """(KubeTarget, ForwardManager) for one live command: the kubeconfig, or the one behind
    `--ssh HOST` through one SSH connection (kube/connection.py, as the app's); everything
    is closed when the block ends."""
    from meshtui.kube.connection import ClusterSpec, connected

    async with connected(ClusterSpec.from_args(args)) as access:
        yield access.target, access.manager


async def _with_admin(args: argparse.Namespace, work: Callable[[EnvoyAdmin], Awaitable[T]]) -> T:
    """Run `work(EnvoyAdmin)` against --admin URL, or POD -n NS through a port-forward."""
    from meshtui.envoy.admin import EnvoyAdmin

    if args.admin:
        admin = EnvoyAdmin(args.admin)
        try:
            return await work(admin)
        finally:
            await admin.aclose()
    if not args.namespace:
        raise CommandError(f"{args.command} POD needs -n/--namespace")
    async with cluster(args) as (target, manager):
        await _check_sidecar(target, args.namespace, args.pod)
        fwd = await manager.acquire(args.namespace, args.pod, ENVOY_ADMIN_PORT)
        if not await fwd.probe():
            raise CommandError(
                f"port-forward to {args.namespace}/{args.pod}:{ENVOY_ADMIN_PORT} failed: {fwd.status.reason}"
            )
        admin = EnvoyAdmin(fwd.url)
        try:
            return await work(admin)
        finally:
            await admin.aclose()


def live(args: argparse.Namespace, work: Callable[[EnvoyAdmin], Awaitable[T]]) -> T:
    """One live read; every known failure becomes a CommandError (one line, exit 2)."""
    from meshtui.envoy.admin import AdminError
    from meshtui.kube.config import KubeError

    if not args.admin and not args.pod:
        raise CommandError(f"{args.command} needs --file PATH, POD -n NAMESPACE, or --admin URL")
    try:
        return asyncio.run(_with_admin(args, work))
    except (AdminError, KubeError, ValueError) as exc:  # format errors are ValueErrors
        raise CommandError(str(exc)) from exc
