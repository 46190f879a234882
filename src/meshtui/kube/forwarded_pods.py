"""The running pods of a label selector, each reached through a port-forward on one port:
istiod's replicas on 15014, a workload's sidecars on 15000.

The pod list is read again every `relist` seconds (a rollout or a scale replaces pods) and
after a failure (`forget`); a pod that is gone gives its forward back to the shared
ForwardManager, so the forwards follow the pods without one being opened per poll.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from meshtui.kube.running import running_pods

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager, PortForward


class ForwardedPods:
    def __init__(
        self,
        target: KubeTarget,
        manager: ForwardManager,
        namespace: str,
        selector: str,
        port: int,
        error: type[Exception],
        relist: float = 10.0,
    ) -> None:
        self.target, self.manager = target, manager
        self.namespace, self.selector, self.port = namespace, selector, port
        self.error, self.relist = error, relist
        self._listed_at = -1e9
        self.pods: list[str] = []  # from the last listing, sorted by name
        self._forwards: dict[str, PortForward] = {}

    async def listed(self, what: str) -> list[str]:
        """The running pods' names, listed again when due; `what` names the lookup in errors."""
        if time.monotonic() - self._listed_at >= self.relist or not self.pods:
            pods = await running_pods(self.target, self.namespace, self.selector, self.error, what)
            self.pods = [p.metadata.name for p in pods]
            self._listed_at = time.monotonic()
            for gone in set(self._forwards) - set(self.pods):
                await self.manager.release(self._forwards.pop(gone))
        return self.pods

    async def urls(self, what: str) -> list[tuple[str, str]]:
        """(pod, base URL of its forwarded port) for every running pod, sorted by name."""
        out = []
        for pod in await self.listed(what):
            if pod not in self._forwards:
                self._forwards[pod] = await self.manager.acquire(self.namespace, pod, self.port)
            out.append((pod, self._forwards[pod].url))
        return out

    def forget(self) -> None:
        """Read the pod list again at the next poll (after a failure)."""
        self._listed_at = -1e9

    async def close(self) -> None:
        forwards, self._forwards = list(self._forwards.values()), {}
        for fwd in forwards:
            await self.manager.release(fwd)
