"""Where istiod's replicas are: pods labelled app=istiod, each reached through a forward.

Listed and forwarded as any workload's pods are (kube/forwarded_pods.py): again every
`relist` seconds, and a replica that is gone gives its forward back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from meshtui.istiod.client import MONITORING_PORT
from meshtui.istiod.metrics import IstiodError
from meshtui.kube.forwarded_pods import ForwardedPods

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager

ISTIOD_SELECTOR = "app=istiod"


class IstiodSource(Protocol):
    async def replicas(self) -> list[tuple[str, str]]:
        """(replica name, base URL of its 15014), sorted by name."""
        ...

    def forget(self) -> None:
        """After a failure: look for the replicas again at the next poll."""

    async def close(self) -> None: ...


class DirectIstiod:
    """Fixed monitoring URLs (tests, or forwards the user already has)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = dict(urls)

    async def replicas(self) -> list[tuple[str, str]]:
        return sorted(self.urls.items())

    def forget(self) -> None:
        return None

    async def close(self) -> None:
        return None


class ForwardedIstiod:
    def __init__(
        self,
        target: KubeTarget,
        manager: ForwardManager,
        namespace: str = "istio-system",
        relist: float = 10.0,
    ):
        self.namespace = namespace
        self.pods = ForwardedPods(
            target, manager, namespace, ISTIOD_SELECTOR, MONITORING_PORT, IstiodError, relist
        )

    async def replicas(self) -> list[tuple[str, str]]:
        if not await self.pods.listed("finding istiod"):
            raise IstiodError(
                f"no istiod: no running pod labelled {ISTIOD_SELECTOR} in {self.namespace} "
                "(--istio-namespace?)"
            )
        return await self.pods.urls("finding istiod")

    def forget(self) -> None:
        """Read the pod list again at the next poll (after a failure)."""
        self.pods.forget()

    async def close(self) -> None:
        await self.pods.close()
