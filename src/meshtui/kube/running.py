"""Running pods for a label selector: the one lookup behind every "find the pod that serves
X" (istiod's replicas, Jaeger's query pod, the ingress gateway, a workload's sidecar).

A pod counts when its phase is Running and it is not being deleted: a terminating
replica still says Running for its grace period, and a forward to it dies mid-read.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.config import KubeTarget


def running(pods: list[Any]) -> list[Any]:
    """The serving ones of a pod list, sorted by name (a stable pick across polls)."""
    return sorted(
        (
            p
            for p in pods
            if p.status is not None
            and (p.status.phase or "") == "Running"
            and p.metadata.deletion_timestamp is None
        ),
        key=lambda p: str(p.metadata.name),
    )


async def running_pods(
    target: KubeTarget, namespace: str, selector: str, error: type[Exception], what: str
) -> list[Any]:
    """The running pods `selector` matches in `namespace` (the blocking client in a thread);
    any failure of the API is `error("<what>: <one line>")`."""
    from meshtui.kube.config import describe

    def listed() -> list[Any]:
        core = target.core()
        return list(core.list_namespaced_pod(namespace, label_selector=selector, _request_timeout=10).items)

    try:
        return running(await asyncio.to_thread(listed))
    except Exception as exc:  # every kubernetes client failure becomes one line
        raise error(f"{what}: {describe(exc, target.shown)}") from exc
