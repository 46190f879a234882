"""Where istiod's replicas are: pods labelled app=istiod, each reached through a forward.

The pod list is read again every `relist` seconds (a rollout replaces replicas); a
replica that is gone gives its forward back to the shared ForwardManager.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from meshtui.istiod.client import MONITORING_PORT
from meshtui.istiod.metrics import IstiodError
from meshtui.kube.running import running_pods

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager, PortForward

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
        self.target, self.manager, self.namespace = target, manager, namespace
        self.relist = relist
        self._listed_at = -1e9
        self._pods: list[str] = []
        self._forwards: dict[str, PortForward] = {}

    async def replicas(self) -> list[tuple[str, str]]:
        if time.monotonic() - self._listed_at >= self.relist or not self._pods:
            pods = await running_pods(
                self.target, self.namespace, ISTIOD_SELECTOR, IstiodError, "finding istiod"
            )
            self._pods = [p.metadata.name for p in pods]
            self._listed_at = time.monotonic()
            for gone in set(self._forwards) - set(self._pods):
                await self.manager.release(self._forwards.pop(gone))
        if not self._pods:
            raise IstiodError(
                f"no istiod: no running pod labelled {ISTIOD_SELECTOR} in {self.namespace} "
                "(--istio-namespace?)"
            )
        out = []
        for pod in self._pods:
            if pod not in self._forwards:
                self._forwards[pod] = await self.manager.acquire(self.namespace, pod, MONITORING_PORT)
            out.append((pod, self._forwards[pod].url))
        return out

    def forget(self) -> None:
        """Read the pod list again at the next poll (after a failure)."""
        self._listed_at = -1e9

    async def close(self) -> None:
        forwards, self._forwards = list(self._forwards.values()), {}
        for fwd in forwards:
            await self.manager.release(fwd)
