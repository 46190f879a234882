"""Pods as meshtui shows them, and a list + watch loop that streams their changes.

The kubernetes client is synchronous: the watch runs in one thread and hands
events to the asyncio loop. Like client-go's reflector it asks for BOOKMARKs and
keeps its resourceVersion fresh with them, re-lists quietly on 410 Gone (too old
resourceVersion) and on 504 "Too large resource version" (an HA replica behind the
one listed on), and retries other errors with backoff, reporting each as one line.
A re-list arrives as one SYNC, so the pods pane is updated in place, never emptied.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

SIDECAR_CONTAINER = "istio-proxy"
PAGE = 500  # pods per list request, as client-go's reflector and `kubectl get` ask for
LIST_TIMEOUTS = (5, 30)  # seconds to connect, and to wait for each page's answer


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
    )


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


class PodWatch:
    """list, then watch from the list's resourceVersion; one thread, events into asyncio."""

    def __init__(self, target: Any, namespace: str | None = None, timeout_seconds: int = 50):
        self.target = target
        self.namespace = namespace
        self.timeout_seconds = timeout_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.resource_version = ""  # where the next watch starts (bookmarks move it on)
        self.relists = 0  # quiet re-lists after 410 / 504

    def stop(self) -> None:
        self._stop.set()

    async def events(self) -> AsyncIterator[PodEvent]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[PodEvent] = asyncio.Queue()

        def emit(event: PodEvent) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, event)
            except RuntimeError:  # the loop is closed: the app is gone
                self._stop.set()

        self._thread = threading.Thread(target=self._run, args=(emit,), name="meshtui-pod-watch", daemon=True)
        self._thread.start()
        try:
            while True:
                yield await queue.get()
        finally:
            self.stop()

    def _run(self, emit: Any) -> None:
        from kubernetes import watch
        from kubernetes.client.rest import ApiException

        from meshtui.kube.config import describe

        core = self.target.core()
        backoff = 0.5
        refreshed = False  # one new credential per run of 401s, as client-go's exec authenticator
        while not self._stop.is_set():
            used = getattr(getattr(self.target, "configuration", None), "api_key", {}).get("BearerToken")
            try:
                items, rv = self._list(core)
                self.resource_version = rv
                emit(PodEvent("SYNC", tuple(pod_info(p) for p in items)))
                backoff, refreshed = 0.5, False
                while not self._stop.is_set():
                    w = watch.Watch()
                    kwargs: dict[str, Any] = {
                        "resource_version": rv,
                        "timeout_seconds": self.timeout_seconds,
                        "allow_watch_bookmarks": True,
                        "_request_timeout": (5, self.timeout_seconds + 15),
                    }
                    fn = core.list_pod_for_all_namespaces
                    args: tuple[Any, ...] = ()
                    if self.namespace:
                        fn, args = core.list_namespaced_pod, (self.namespace,)
                    for ev in w.stream(fn, *args, **kwargs):
                        if self._stop.is_set():
                            w.stop()
                            break
                        if ev["type"] == "BOOKMARK":
                            # the client leaves a bookmark's object a raw dict: only its rv counts
                            raw = ev.get("raw_object") or {}
                            rv = (raw.get("metadata") or {}).get("resourceVersion") or rv
                            self.resource_version = rv
                            continue
                        obj = ev["object"]
                        rv = self.resource_version = obj.metadata.resource_version or rv
                        emit(PodEvent(ev["type"], (pod_info(obj),)))
            except ApiException as exc:
                if exc.status == 410 or _too_large(exc):  # as client-go's reflector: list again
                    self.relists += 1
                    if exc.status == 410 or not self._stop.wait(0.5):
                        continue
                    return
                why = ""
                if exc.status == 401 and not refreshed:
                    refreshed, why = self._refresh(used)
                    if refreshed:
                        continue  # list again at once with the new credential
                renew = f"; the exec plugin could not renew them: {why}" if why else ""
                message = f"API server rejected the credentials (401){renew}" if renew else ""
                emit(PodEvent("ERROR", message=message or describe(exc, self.target.shown)))
            except Exception as exc:
                emit(PodEvent("ERROR", message=describe(exc, self.target.shown)))
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, 10.0)

    def _list(self, core: Any) -> tuple[list[Any], str]:
        """Every pod and the resourceVersion to watch from, read in pages of PAGE as
        client-go's reflector lists (tools/pager: limit 500, then `continue`), each page with
        its own connect and read timeouts rather than one deadline for the whole list, which
        a big cluster's list would outlast. A continue token that expired mid-way (410)
        means one full list, as the pager's FullListIfExpired does."""
        from kubernetes.client.rest import ApiException

        fn: Any = core.list_namespaced_pod if self.namespace else core.list_pod_for_all_namespaces
        args: tuple[Any, ...] = (self.namespace,) if self.namespace else ()
        items: list[Any] = []
        token = ""
        while True:
            try:
                page = fn(*args, limit=PAGE, _continue=token or None, _request_timeout=LIST_TIMEOUTS)
            except ApiException as exc:
                if exc.status != 410 or not token:
                    raise
                listed = fn(*args, _request_timeout=LIST_TIMEOUTS)
                return list(listed.items), listed.metadata.resource_version
            items.extend(page.items)
            token = page.metadata._continue or ""
            if not token or self._stop.is_set():
                return items, page.metadata.resource_version

    def _refresh(self, rejected: str | None) -> tuple[bool, str]:
        """(renewed, why not): why is the exec plugin's own first line when it failed."""
        refresh = getattr(self.target, "refresh_credentials", None)
        try:
            return (bool(refresh(rejected)) if refresh is not None else False), ""
        except Exception as exc:
            return False, " ".join(str(exc).split())[:200]


def _too_large(exc: Any) -> bool:
    """apiserver's storage.NewTooLargeResourceVersionError: a 504 with this cause."""
    body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    return bool(exc.status == 504 and "ResourceVersionTooLarge" in body)


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
