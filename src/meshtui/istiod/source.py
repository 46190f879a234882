"""Where istiod's replicas are: pods labelled app=istiod, each reached through a forward.

The pod list is read again every `relist` seconds (a rollout replaces replicas); a
replica that is gone gives its forward back to the shared ForwardManager.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

from meshtui.istiod.client import MONITORING_PORT
from meshtui.istiod.metrics import IstiodError

ISTIOD_SELECTOR = "app=istiod"


class IstiodSource(Protocol):
    async def replicas(self) -> list[tuple[str, str]]:
        """(replica name, base URL of its 15014), sorted by name."""
        ...

    async def close(self) -> None: ...


class DirectIstiod:
    """Fixed monitoring URLs (tests, or forwards the user already has)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = dict(urls)

    async def replicas(self) -> list[tuple[str, str]]:
        return sorted(self.urls.items())

    async def close(self) -> None:
        return None


class ForwardedIstiod:
    def __init__(self, target: Any, manager: Any, namespace: str = "istio-system", relist: float = 10.0):
        self.target, self.manager, self.namespace = target, manager, namespace
        self.relist = relist
        self._listed_at = -1e9
        self._pods: list[str] = []
        self._forwards: dict[str, Any] = {}

    def _list(self) -> list[str]:
        from meshtui.kube.config import describe

        try:
            core = self.target.core()
            pods = core.list_namespaced_pod(
                self.namespace, label_selector=ISTIOD_SELECTOR, _request_timeout=10
            )
        except Exception as exc:  # every kubernetes client failure becomes one line
            raise IstiodError(f"finding istiod: {describe(exc, self.target.server)}") from exc
        return sorted(
            p.metadata.name
            for p in pods.items
            if (p.status.phase or "") == "Running" and p.metadata.deletion_timestamp is None
        )

    async def replicas(self) -> list[tuple[str, str]]:
        if time.monotonic() - self._listed_at >= self.relist or not self._pods:
            self._pods = await asyncio.to_thread(self._list)
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
