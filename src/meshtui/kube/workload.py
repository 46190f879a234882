"""Which pods are one workload's replicas: a Deployment's (its selector), or any label
selector. `meshtui stats deploy/catalog -n NS`, `-l app=catalog`, and the Replicas place
opened on a pod (its Deployment, found as kubectl finds it from a pod: the owning
ReplicaSet's name less the pod-template-hash; pods of no Deployment by their `app` label).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshtui.kube.config import KubeTarget

DEPLOYMENT_WORDS = ("deploy/", "deployment/", "deployments/", "deployment.apps/")


class WorkloadError(Exception):
    """The workload cannot be found; one line."""


@dataclass(frozen=True)
class Workload:
    namespace: str
    selector: str  # a label selector, `app=catalog`
    shown: str  # `deploy/catalog`, or the selector itself

    @property
    def title(self) -> str:
        return f"{self.shown} in {self.namespace}"


def selector_text(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def deployment_name(text: str) -> str | None:
    """`deploy/catalog` -> catalog; anything else -> None."""
    low = text.lower()
    for word in DEPLOYMENT_WORDS:
        if low.startswith(word) and len(text) > len(word):
            return text[len(word) :]
    return None


async def deployment(target: KubeTarget, namespace: str, name: str, *, fallback: bool = False) -> Workload:
    """A Deployment's replicas, by its selector's matchLabels. `fallback`: no such
    Deployment (a pod of a StatefulSet, or of none) -> the pods labelled app=NAME."""
    from meshtui.kube.config import describe

    def read() -> Any:
        from kubernetes import client

        apps = client.AppsV1Api(target.api_client())
        return apps.read_namespaced_deployment(name, namespace, _request_timeout=10)

    try:
        obj = await asyncio.to_thread(read)
    except Exception as exc:  # every kubernetes client failure becomes one line
        if fallback and getattr(exc, "status", None) in (403, 404):
            return Workload(namespace, f"app={name}", f"app={name}")
        raise WorkloadError(f"deploy/{name} in {namespace}: {describe(exc, target.shown)}") from exc
    selector = obj.spec.selector if obj.spec else None
    labels = dict(selector.match_labels or {}) if selector else {}
    if not labels:
        # matchExpressions alone are rare for a Deployment; not read here
        raise WorkloadError(f"deploy/{name} in {namespace}: its selector has no matchLabels")
    return Workload(namespace, selector_text(labels), f"deploy/{name}")
