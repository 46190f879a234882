"""What a mesh-wide view (istiod, Jaeger) needs to reach the cluster: the API and the forwards."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the kubernetes client loads after the first frame, not with the app
    from meshtui.kube.config import KubeTarget
    from meshtui.kube.portforward import ForwardManager


@dataclass(frozen=True)
class MeshAccess:
    """Handed to every place widget once the kubeconfig has loaded.

    `target.core()` is a blocking CoreV1Api (call it in a thread); `manager.acquire(ns, pod,
    port)` gives the shared port-forward that the per-pod views use too.
    """

    target: KubeTarget
    manager: ForwardManager
