"""What the demo's Kubernetes objects do: Istio config becomes pushes, Deployments become pods.

A VirtualService, DestinationRule or EnvoyFilter change updates the demo istiod's config
and triggers a full push (pilot_push_triggers{type="config"}), as istiod's config
controller does. A Deployment's controller replaces or adds pods the way a rolling
update does: the new pod starts (its own app and Envoy) and is ready first, then the old
one is Terminating, its endpoint withdrawn by an EDS push, its Envoy stopped, and it is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import sys
import time
from typing import TYPE_CHECKING, Any

from meshtui.demo.apiserver import SimApiServer
from meshtui.demo.kinds import apps as apps_kind
from meshtui.demo.kinds import istio as istio_kinds
from meshtui.demo.kinds.store import OnChange, Resource
from meshtui.demo.pods import WORKLOADS, Pods
from meshtui.demo.simpod import SimPod

if TYPE_CHECKING:
    from meshtui.demo.xds.istiod import Istiod


class Controller:
    def __init__(self, api: SimApiServer, istiod: Istiod, pods: Pods) -> None:
        self.api, self.istiod, self.pods = api, istiod, pods
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._templates: dict[str, str] = {}
        self._specs: dict[str, str] = {}
        for res in istio_kinds.resources(self._count, self._config_handler):
            api.kinds.add(res)
        self.deployments: Resource = api.kinds.add(apps_kind.resource(self._deployment_changed))

    # -- Istio config -> pushes --------------------------------------------------------------

    def _count(self, version: str, resource: str, outcome: str, reason: str | None) -> None:
        labels = ("networking.istio.io", version, resource) + ((reason,) if reason else ())
        self.istiod.metrics.counters.inc(f"galley_validation_{outcome}", *labels)

    def _config_handler(self, kind: str) -> OnChange:
        config = self.istiod.xds.config
        store = {
            "VirtualService": config.virtual_services,
            "DestinationRule": config.destination_rules,
            "EnvoyFilter": config.envoy_filters,
        }[kind]

        async def changed(event: str, obj: dict[str, Any]) -> None:
            key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
            if event == "DELETED":
                store.pop(key, None)
            else:
                store[key] = obj
            self.istiod.xds.push("config")

        return changed

    # -- Deployments -> pods -------------------------------------------------------------------

    async def add_deployments(self) -> None:
        for key in ("webapp", "catalog"):
            w = WORKLOADS[key]
            obj = await self.api.kinds.create(
                self.deployments,
                w.namespace,
                apps_kind.deployment(w.name, w.namespace, w.image, w.inbound_port, w.labels),
            )
            self._templates[key] = json.dumps(obj["spec"]["template"], sort_keys=True)
            self._specs[key] = json.dumps(obj["spec"], sort_keys=True)
        for key in ("webapp", "catalog"):
            await self._update_status(key)

    async def _deployment_changed(self, event: str, obj: dict[str, Any]) -> None:
        spec = json.dumps(obj.get("spec"), sort_keys=True)
        name = obj["metadata"]["name"]
        if event != "MODIFIED" or self._specs.get(name) == spec:
            return  # our own status updates change no spec
        self._specs[name] = spec
        task = asyncio.ensure_future(self._reconcile(obj["metadata"]["name"]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_say_failure)

    async def _reconcile(self, name: str) -> None:
        async with self._lock:
            obj = self.deployments.objects.get((WORKLOADS[name].namespace, name))
            if obj is None:
                return
            template = json.dumps(obj["spec"]["template"], sort_keys=True)
            want = int(obj["spec"].get("replicas", 1))
            if template != self._templates.get(name):
                self._templates[name] = template
                WORKLOADS[name].template_hash = secrets.token_hex(5)[:9]
                old = [r.pod.name for r in self.pods.of(name)]
                for _ in range(max(want, 1) if want else 0):
                    await self._add_pod(name)
                for pod in old:
                    await self._remove_pod(pod)
            running = self.pods.of(name)
            for _ in range(want - len(running)):
                await self._add_pod(name)
            for extra in running[want:]:
                await self._remove_pod(extra.pod.name)
            await self._update_status(name)

    async def _add_pod(self, workload: str) -> None:
        # as a ReplicaSet's pod: in the API first, Pending (its containers being created),
        # Running and ready once its Envoy has its config; the events timeline shows the
        # pod added before its Envoy connects to istiod, as on a real cluster
        async def pending(pod: SimPod) -> None:
            pod.phase = "Pending"
            for c in pod.containers:
                c.ready, c.state = False, {"waiting": {"reason": "ContainerCreating"}}
            await self.api.add_pod(pod)

        async def failed(pod: SimPod) -> None:
            await self.api.delete_pod(pod.namespace, pod.name)

        running = await self.pods.start(workload, announce=pending, withdraw=failed)
        pod, now = running.pod, time.time()
        pod.phase = "Running"
        for c in pod.containers:
            c.ready, c.state, c.started = True, None, now
        await self.api.pod_status_changed(pod)
        self.istiod.xds.push_endpoints()  # the new endpoint is ready

    async def _remove_pod(self, name: str) -> None:
        async def terminating(pod: SimPod) -> None:
            await self.api.mark_terminating(pod)
            self.istiod.xds.push_endpoints()  # the endpoint leaves before the Envoy stops

        running = self.pods.running.get(name)
        await self.pods.stop(name, terminating)
        if running is not None:
            await self.api.delete_pod(running.pod.namespace, name)

    async def _update_status(self, name: str) -> None:
        n = len(self.pods.of(name))
        obj = self.deployments.objects[(WORKLOADS[name].namespace, name)]
        status = {
            "observedGeneration": obj["metadata"].get("generation", 1),
            "replicas": n,
            "updatedReplicas": n,
            "readyReplicas": n,
            "availableReplicas": n,
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}],
        }
        await self.api.kinds.patch(self.deployments, WORKLOADS[name].namespace, name, {"status": status})

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


def _say_failure(task: asyncio.Task[None]) -> None:
    """A rollout that failed is said on the demo's stderr, not lost in a task nobody awaits."""
    if not task.cancelled() and task.exception() is not None:
        print(f"meshtui demo: a Deployment change was not rolled out: {task.exception()}", file=sys.stderr)
