"""Kubernetes' side of the timeline: pods added, ready, not ready, restarted, terminating,
deleted; Deployments rolled out or scaled; Istio's objects created, changed (which fields,
in one line) and deleted. Each from a list + watch (kube/watch.py), so a change is seen
the moment the API server has it, and a re-list (after a watch expired) is diffed against
what was known rather than replayed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshtui import spec_diff
from meshtui.events.model import MeshEvent
from meshtui.kube.pods import PodEvent, PodInfo
from meshtui.kube.watch import ListWatch

K8S = "kubernetes"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"

# what `kubectl get` lists of Istio's config, (group, version, plural, Kind): the versions
# every Istio from 1.17 serves (v1 came later; v1beta1 is still served beside it)
ISTIO_KINDS = (
    ("networking.istio.io", "v1beta1", "virtualservices", "VirtualService"),
    ("networking.istio.io", "v1beta1", "destinationrules", "DestinationRule"),
    ("networking.istio.io", "v1beta1", "gateways", "Gateway"),
    ("networking.istio.io", "v1beta1", "serviceentries", "ServiceEntry"),
    ("networking.istio.io", "v1beta1", "sidecars", "Sidecar"),
    ("networking.istio.io", "v1alpha3", "envoyfilters", "EnvoyFilter"),
    ("security.istio.io", "v1beta1", "peerauthentications", "PeerAuthentication"),
    ("security.istio.io", "v1beta1", "authorizationpolicies", "AuthorizationPolicy"),
    ("security.istio.io", "v1beta1", "requestauthentications", "RequestAuthentication"),
    ("telemetry.istio.io", "v1alpha1", "telemetries", "Telemetry"),
)


def _ready(pod: PodInfo) -> bool:
    have, _, want = pod.ready.partition("/")
    return have == want and want not in ("", "0") and pod.status != "Terminating"


def pod_changes(old: PodInfo | None, new: PodInfo | None, now: float) -> list[MeshEvent]:
    """What happened to one pod between two sightings (None: not there)."""
    pod = new or old
    if pod is None:
        return []
    name = f"{pod.namespace}/{pod.name}"
    detail = {"namespace": pod.namespace, "pod": pod.name, "workload": pod.workload}

    def event(summary: str, **more: Any) -> MeshEvent:
        return MeshEvent(now, "Pod", name, summary, {**detail, **more}, K8S)

    if new is None:
        return [event("deleted")]
    out = []
    if old is None:
        out.append(event(f"added ({new.status}, {new.ready} ready)", status=new.status))
        if _ready(new):
            out.append(event("ready", ready=new.ready))
        return out
    if new.status == "Terminating" and old.status != "Terminating":
        out.append(event("terminating", ready=new.ready))
    if new.restarts > old.restarts:
        why = f": {new.last_exit}" if new.last_exit else ""
        out.append(
            event(f"restarted{why} (restarts {new.restarts})", restarts=new.restarts, last_exit=new.last_exit)
        )
    if _ready(new) and not _ready(old):
        out.append(event("ready", ready=new.ready))
    elif _ready(old) and not _ready(new) and new.status != "Terminating":
        out.append(event(f"not ready ({new.ready}, {new.status})", ready=new.ready, status=new.status))
    return out


@dataclass
class PodTimeline:
    """Pods as last seen; each watch event becomes the timeline's entries. The first list
    is the baseline (nothing happened: meshtui just looked)."""

    known: dict[tuple[str, str], PodInfo] = field(default_factory=dict)
    synced: bool = False

    def apply(self, event: PodEvent, now: float) -> list[MeshEvent]:
        if event.kind == "ERROR":
            return []
        if event.kind == "SYNC":
            listed = {p.key: p for p in event.pods}
            out: list[MeshEvent] = []
            if self.synced:  # a re-list: what changed while the watch was down
                for key in sorted(set(self.known) | set(listed)):
                    out += pod_changes(self.known.get(key), listed.get(key), now)
            self.known, self.synced = listed, True
            return out
        out = []
        for pod in event.pods:
            if event.kind == "DELETED":
                out += pod_changes(self.known.pop(pod.key, pod), None, now)
            else:
                out += pod_changes(self.known.get(pod.key), pod, now)
                self.known[pod.key] = pod
        return out


# -- Deployments and Istio's kinds: watched as plain objects ------------------------------


@dataclass(frozen=True)
class ObjectEvent:
    kind: str  # SYNC, ADDED, MODIFIED, DELETED, ERROR
    objects: tuple[dict[str, Any], ...] = ()
    message: str = ""


class ObjectWatch(ListWatch[ObjectEvent]):
    """A collection as dicts: the custom-objects API's own, a typed object serialized."""

    thread_name = "meshtui-object-watch"

    def __init__(self, target: Any, lister: Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]):
        super().__init__(target)
        self._lister = lister

    def lister(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        return self._lister(self.target)

    def convert(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, dict):
            return obj
        return dict(self.target.api_client().sanitize_for_serialization(obj))

    def event(self, kind: str, items: tuple[Any, ...] = (), message: str = "") -> ObjectEvent:
        return ObjectEvent(kind, items, message)


def custom_lister(
    group: str, version: str, plural: str
) -> Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]:
    def lister(target: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        from kubernetes import client

        api = client.CustomObjectsApi(target.api_client())
        return api.list_cluster_custom_object, (group, version, plural)

    return lister


def deployments_lister(target: Any) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    from kubernetes import client

    return client.AppsV1Api(target.api_client()).list_deployment_for_all_namespaces, ()


def _key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


@dataclass
class ObjectTimeline:
    """One kind's objects as last seen: created, changed (the spec's changed fields, or a
    Deployment's scale and rollout), deleted. `kind` as users write it."""

    kind: str
    known: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    synced: bool = False

    def apply(self, event: ObjectEvent, now: float) -> list[MeshEvent]:
        if event.kind == "ERROR":
            return []
        if event.kind == "SYNC":
            listed = {_key(o): o for o in event.objects}
            out: list[MeshEvent] = []
            if self.synced:
                for key in sorted(set(self.known) | set(listed)):
                    out += self.changes(self.known.get(key), listed.get(key), now)
            self.known, self.synced = listed, True
            return out
        out = []
        for obj in event.objects:
            key = _key(obj)
            if event.kind == "DELETED":
                out += self.changes(self.known.pop(key, obj), None, now)
            else:
                out += self.changes(self.known.get(key), obj, now)
                self.known[key] = obj
        return out

    def changes(self, old: dict[str, Any] | None, new: dict[str, Any] | None, now: float) -> list[MeshEvent]:
        obj = new or old
        if obj is None:
            return []
        namespace, name = _key(obj)
        where = f"{namespace}/{name}" if namespace else name
        detail: dict[str, Any] = {"namespace": namespace, "name": name}
        if new is None:
            return [MeshEvent(now, self.kind, where, "deleted", detail, K8S)]
        if old is None:
            spec = new.get("spec") or {}
            return [
                MeshEvent(now, self.kind, where, f"created: {_brief(spec)}", {**detail, "spec": spec}, K8S)
            ]
        if self.kind == "Deployment":
            return self._deployment(old, new, where, detail, now)
        found = list(spec_diff.changes(old.get("spec") or {}, new.get("spec") or {}))
        if not found:
            return []  # status or metadata only: not a change of what the user asked for
        line = f"changed: {spec_diff.summary(found)}"
        return [MeshEvent(now, self.kind, where, line, {**detail, "changes": spec_diff.as_json(found)}, K8S)]

    def _deployment(
        self, old: dict[str, Any], new: dict[str, Any], where: str, detail: dict[str, Any], now: float
    ) -> list[MeshEvent]:
        out = []
        before, after = (old.get("spec") or {}).get("replicas"), (new.get("spec") or {}).get("replicas")
        if before != after:
            out.append(
                MeshEvent(
                    now, self.kind, where, f"scaled {before} -> {after}", {**detail, "replicas": after}, K8S
                )
            )
        template = list(
            spec_diff.changes(
                (old.get("spec") or {}).get("template") or {}, (new.get("spec") or {}).get("template") or {}
            )
        )
        if template:
            restart = [n for path, _, n in template if path.endswith(RESTARTED_AT)]
            if restart and len(template) == 1:  # what `kubectl rollout restart` changes
                line = f"rollout restart ({RESTARTED_AT} {restart[0]})"
            else:
                line = f"rolled out: {spec_diff.summary(template)}"
            out.append(
                MeshEvent(
                    now, self.kind, where, line, {**detail, "changes": spec_diff.as_json(template)}, K8S
                )
            )
        return out


def _brief(spec: dict[str, Any]) -> str:
    """A created object's spec, first leaves first, in one line."""
    leaves = list(spec_diff.changes({}, spec))
    if not leaves:
        return "empty spec"
    parts = [f"{p}={spec_diff.shown(n)}" for p, _, n in leaves[:3]]
    return ", ".join(parts) + (f" (+{len(leaves) - 3} more)" if len(leaves) > 3 else "")
