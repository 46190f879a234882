"""Pods as meshtui shows them, and their watch (the loop is kube/watch.py's)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from meshtui.kube.watch import ListWatch

SIDECAR_CONTAINER = "istio-proxy"


@dataclass(frozen=True, slots=True)
class PodInfo:
    namespace: str
    name: str
    uid: str
    workload: str
    ready: str  # "2/2"
    status: str  # Running, Pending, Terminating, CrashLoopBackOff, ...
    restarts: int
    created: float  # unix seconds
    ip: str
    sidecar: str | None  # istio-proxy image tag, None without a sidecar
    is_gateway: bool = False
    revision: str = ""  # the pod-template-hash: pods of one ReplicaSet share it, a rollout changes it
    # the last container exit that led to a restart: "istio-proxy exit 137 (Error)"
    last_exit: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def _image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return last.split("@", 1)[1][:19]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def _ts(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    return 0.0


def workload_of(name: str, labels: dict[str, str], owners: Iterable[Any]) -> str:
    """The Deployment (or other owner) a pod belongs to, so a restarted pod can be followed."""
    for owner in owners or ():
        kind, oname = getattr(owner, "kind", None), getattr(owner, "name", "")
        if kind == "ReplicaSet":
            h = labels.get("pod-template-hash")
            return oname[: -len(h) - 1] if h and oname.endswith("-" + h) else oname
        if kind:
            return oname
    return labels.get("app") or labels.get("app.kubernetes.io/name") or name


def pod_info(pod: Any) -> PodInfo:
    """From a kubernetes client V1Pod."""
    meta, spec, status = pod.metadata, pod.spec, pod.status
    labels = meta.labels or {}
    statuses = (status.container_statuses or []) if status else []
    containers = spec.containers or []
    ready = sum(1 for s in statuses if s.ready and s.state and s.state.running)
    restarts = sum(s.restart_count or 0 for s in statuses)
    phase = (status.phase if status else None) or "Unknown"
    shown = phase
    # as kubectl's printPod: a container waiting or terminated names the pod's status
    # (kubernetes pkg/printers/internalversion/printers.go)
    for s in reversed(statuses):
        waiting = s.state.waiting if s.state else None
        terminated = s.state.terminated if s.state else None
        if waiting and waiting.reason:
            shown = waiting.reason
        elif terminated:
            shown = terminated.reason or (
                f"Signal:{terminated.signal}" if terminated.signal else f"ExitCode:{terminated.exit_code}"
            )
    if shown == "Completed" and ready:  # a sidecar that exited 0 beside a running app
        conditions = {c.type: c.status for c in (status.conditions or [])} if status else {}
        shown = "Running" if conditions.get("Ready") == "True" else "NotReady"
    if meta.deletion_timestamp:
        shown = "Terminating"
    last_exit = _last_exit(statuses)
    proxy_image = next((c.image for c in containers if c.name == SIDECAR_CONTAINER), None)
    for c in spec.init_containers or []:  # native sidecars (restartPolicy: Always)
        if c.name == SIDECAR_CONTAINER and getattr(c, "restart_policy", None) == "Always":
            proxy_image = c.image
    return PodInfo(
        namespace=meta.namespace,
        name=meta.name,
        uid=meta.uid or "",
        workload=workload_of(meta.name, labels, meta.owner_references or ()),
        ready=f"{ready}/{len(containers)}",
        status=shown,
        restarts=restarts,
        created=_ts(meta.creation_timestamp),
        ip=(status.pod_ip if status else None) or "",
        sidecar=_image_tag(proxy_image) if proxy_image else None,
        is_gateway="istio" in labels and "gateway" in labels.get("istio", ""),
        revision=labels.get("pod-template-hash", ""),
        last_exit=last_exit,
    )


def _last_exit(statuses: Iterable[Any]) -> str:
    """The most recent lastState.terminated of the pod's containers, as one phrase."""
    latest: tuple[float, str] | None = None
    for s in statuses:
        last = s.last_state.terminated if getattr(s, "last_state", None) else None
        if last is None:
            continue
        code = f"exit {last.exit_code}" if last.exit_code is not None else f"signal {last.signal}"
        phrase = f"{s.name} {code}" + (f" ({last.reason})" if last.reason else "")
        at = _ts(last.finished_at)
        if latest is None or at >= latest[0]:
            latest = (at, phrase)
    return latest[1] if latest else ""


def replicas_of(pod: PodInfo, pods: Iterable[PodInfo]) -> list[PodInfo]:
    """The other pods of `pod`'s workload that are not going away."""
    return [
        p
        for p in pods
        if (p.namespace, p.workload) == (pod.namespace, pod.workload)
        and p.name != pod.name
        and p.status != "Terminating"
    ]


def successor(
    old: PodInfo, pods: Iterable[PodInfo], siblings: AbstractSet[tuple[str, str]] = frozenset()
) -> PodInfo | None:
    """The pod that replaced `old` in its workload, if there is one: one of a newer
    revision (a rollout), or one that came after `old` went (its ReplicaSet making up for
    it). `siblings`, the workload's pods when `old` went, are no replacement when they
    share its revision: `old` was scaled away, and they are other replicas, not it."""
    candidates = [
        p
        for p in pods
        if p.namespace == old.namespace
        and p.workload == old.workload
        and p.name != old.name
        and p.status != "Terminating"
        and (p.key not in siblings or (p.revision != old.revision and p.created >= old.created))
    ]
    return max(candidates, key=lambda p: p.created, default=None)


def age(seconds: float) -> str:
    """kubectl's AGE: 45s, 12m, 3h, 5d."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


@dataclass(frozen=True, slots=True)
class PodEvent:
    kind: Literal["SYNC", "ADDED", "MODIFIED", "DELETED", "ERROR"]
    pods: tuple[PodInfo, ...] = ()
    message: str = ""


class PodWatch(ListWatch[PodEvent]):
    """Every pod (or a namespace's), as PodInfo."""

    thread_name = "meshtui-pod-watch"

    def lister(self) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        core = self.target.core()
        if self.namespace:
            return core.list_namespaced_pod, (self.namespace,)
        return core.list_pod_for_all_namespaces, ()

    def convert(self, obj: Any) -> PodInfo:
        return pod_info(obj)

    def event(self, kind: str, items: tuple[Any, ...] = (), message: str = "") -> PodEvent:
        return PodEvent(kind, items, message)  # type: ignore[arg-type]


class PodIndex:
    """The current pods, kept from SYNC/ADDED/MODIFIED/DELETED events."""

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], PodInfo] = {}
        # the keys in the pane's order, kept until a pod comes or goes: a big cluster's
        # watch sends mostly changes to known pods, and sorting 10,000 pods costs ~9 ms
        self._order: list[tuple[str, str]] | None = None

    def apply(self, event: PodEvent) -> list[PodInfo]:
        """Apply one event; returns the pods that disappeared (deleted, or gone at a re-list)."""
        gone: list[PodInfo] = []
        if event.kind == "SYNC":
            fresh = {p.key: p for p in event.pods}
            gone = [p for k, p in self.pods.items() if k not in fresh]
            self.pods = fresh
            self._order = None
        elif event.kind in ("ADDED", "MODIFIED"):
            for p in event.pods:
                old = self.pods.get(p.key)
                if old is None or (old.sidecar is None) != (p.sidecar is None):
                    self._order = None  # a new pod, or one whose place in the order moved
                self.pods[p.key] = p
        elif event.kind == "DELETED":
            for p in event.pods:
                if self.pods.pop(p.key, None) is not None:
                    gone.append(p)
                    self._order = None
        return gone

    def in_place(self, event: PodEvent) -> bool:
        """Whether `event` (not yet applied) only changes known pods, none of them moving in
        the order: the pods pane then repaints those rows instead of the whole list."""
        if event.kind != "MODIFIED":
            return False
        for p in event.pods:
            old = self.pods.get(p.key)
            if old is None or (old.sidecar is None) != (p.sidecar is None):
                return False
        return True

    def snapshot(self) -> tuple[PodInfo, ...]:
        """Sidecar pods first, then by namespace and name (the pods pane's order)."""
        if self._order is None:
            ordered = sorted(self.pods.values(), key=lambda p: (p.sidecar is None, p.namespace, p.name))
            self._order = [p.key for p in ordered]
            return tuple(ordered)
        return tuple(map(self.pods.__getitem__, self._order))
