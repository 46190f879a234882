"""The timeline's sources, run together: the pods watch, the Deployments watch, a watch per
Istio kind the user may list, and istiod's polls; each change becomes a MeshEvent handed
to `emit` (the Events place's ring, or `meshtui events`' stdout).

Which Istio kinds are watched is found first: one list of at most one object per kind.
A kind the API server does not serve (its CRD is not installed) or the user may not list
(RBAC) is left out and said once, as a meshtui entry, so a quiet timeline never hides a
kind it could not see. A source that fails says so once per new reason, and once more when
it answers again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from meshtui.events.envoys import MAX_CLUSTERS, EnvoysFeed
from meshtui.events.istiod import IstiodTimeline
from meshtui.events.kube import (
    ISTIO_KINDS,
    ObjectEvent,
    ObjectTimeline,
    ObjectWatch,
    PodTimeline,
    custom_lister,
    deployments_lister,
)
from meshtui.events.model import MeshEvent
from meshtui.kube.pods import PodEvent, PodWatch

MESHTUI = "meshtui"
Emit = Callable[[MeshEvent], None]


def _listable(target: Any, group: str, version: str, plural: str) -> str:
    """ "" when the kind can be listed, else why not ("not installed", "not allowed")."""
    from kubernetes import client
    from kubernetes.client.rest import ApiException

    api = client.CustomObjectsApi(target.api_client())
    try:
        api.list_cluster_custom_object(group, version, plural, limit=1, _request_timeout=(5, 15))
    except ApiException as exc:
        if exc.status == 404:
            return "not installed"
        if exc.status in (401, 403):
            return "not allowed"
        return f"HTTP {exc.status}"
    except Exception as exc:
        return type(exc).__name__
    return ""


class Recorder:
    def __init__(
        self,
        target: Any,
        emit: Emit,
        *,
        istiod: Any = None,  # an IstiodFeed (istiod/live.py), or None: no istiod entries
        manager: Any = None,  # a ForwardManager: the Envoys' own entries (events/envoys.py)
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.target = target
        self.emit = emit
        self.istiod = istiod
        self.manager = manager
        self.pods = PodTimeline()  # the pods as last seen: the Envoys read are theirs
        self.clock = clock
        self._said: dict[str, str] = {}  # source -> the last trouble said

    def note(self, kind: str, obj: str, summary: str, **detail: Any) -> None:
        """One of meshtui's own actions (a log level changed, counters reset, load started)."""
        self.emit(MeshEvent(self.clock(), kind, obj, summary, detail, MESHTUI))

    async def run(self) -> None:
        """Every source until cancelled (the place or the command ends)."""
        kinds, missing = await asyncio.to_thread(self._kinds)
        names = ", ".join(k for *_, k in kinds) or "no Istio kind"
        left = "; ".join(f"{why}: {', '.join(ks)}" for why, ks in missing.items())
        line = f"watching pods, Deployments, {names}" + (f" ({left})" if left else "")
        self.note("meshtui", "events", line, watched=[k for *_, k in kinds], missing=missing)
        tasks = [
            self._watch("pods", PodWatch(self.target).events(), self.pods),
            self._watch(
                "Deployments",
                ObjectWatch(self.target, deployments_lister).events(),
                ObjectTimeline("Deployment"),
            ),
        ]
        for group, version, plural, kind in kinds:
            watch = ObjectWatch(self.target, custom_lister(group, version, plural))
            tasks.append(self._watch(kind, watch.events(), ObjectTimeline(kind)))
        if self.istiod is not None:
            tasks.append(self._istiod())
        if self.manager is not None:
            tasks.append(self._envoys())
        await asyncio.gather(*tasks)

    def _kinds(self) -> tuple[list[tuple[str, str, str, str]], dict[str, list[str]]]:
        """(the Istio kinds to watch, why the others are not: their kinds) (in a thread)."""
        watched: list[tuple[str, str, str, str]] = []
        missing: dict[str, list[str]] = {}
        for group, version, plural, kind in ISTIO_KINDS:
            why = _listable(self.target, group, version, plural)
            if why:
                missing.setdefault(why, []).append(kind)
            else:
                watched.append((group, version, plural, kind))
        return watched, missing

    async def _watch(
        self, what: str, events: AsyncIterator[PodEvent] | AsyncIterator[ObjectEvent], timeline: Any
    ) -> None:
        async for event in events:
            if event.kind == "ERROR":
                self._trouble(what, f"{what} watch: {event.message}")
                continue
            self._fine(what, f"{what} watch")
            for entry in timeline.apply(event, self.clock()):
                self.emit(entry)

    async def _istiod(self) -> None:
        timeline = IstiodTimeline()
        async for update in self.istiod.updates():
            if update.error:
                self._trouble("istiod", f"istiod: {update.error}")
                continue
            self._fine("istiod", "istiod")
            for entry in timeline.apply(update, self.clock()):
                self.emit(entry)

    async def _envoys(self) -> None:
        feed = EnvoysFeed(lambda: self.pods.known.values(), self.manager)
        said_cap = False
        said_big: set[str] = set()
        async for update in feed.updates():
            if update.error:
                self._trouble("envoys", f"Envoys: {update.error}")
                continue
            if update.sidecars > update.watched and not said_cap:
                said_cap = True
                self.note(
                    "meshtui",
                    "envoys",
                    f"reading the Envoys of {update.watched} of {update.sidecars} sidecars",
                )
            for pod in sorted(feed.too_big - said_big):
                said_big.add(pod)
                line = (
                    f"envoy {pod}: over {MAX_CLUSTERS} clusters: only its restarts are read (not /clusters)"
                )
                self.note("meshtui", "envoys", line)
            silent = dict(update.problems)
            for pod in list(self._said):
                if pod.startswith("envoy ") and pod[6:] not in silent:
                    self._fine(pod, pod)
            for pod, why in update.problems:
                self._trouble(f"envoy {pod}", f"envoy {pod}: {why}")
            for entry in update.events:
                self.emit(entry)

    def _trouble(self, source: str, line: str) -> None:
        if self._said.get(source) != line:
            self._said[source] = line
            self.note("meshtui", source, line, problem=True)

    def _fine(self, source: str, what: str) -> None:
        if self._said.pop(source, None) is not None:
            self.note("meshtui", source, f"{what}: answering again")
