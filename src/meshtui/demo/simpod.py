"""The pods the demo's API server serves, as the Kubernetes API shows them (v1 Pod JSON)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Container:
    name: str
    image: str
    ports: list[int] = field(default_factory=list)
    # what the kubelet reports for it (demo/kubelet.py changes these when the Envoy dies)
    ready: bool = True
    restarts: int = 0
    started: float | None = None  # running since (None: the pod's start)
    state: dict[str, Any] | None = None  # a waiting/terminated state instead of running
    last_state: dict[str, Any] = field(default_factory=dict)

    def status(self, pod: SimPod) -> dict[str, Any]:
        running = {"running": {"startedAt": _ts(self.started or pod.created)}}
        return {
            "name": self.name,
            "image": self.image,
            "imageID": "",
            "containerID": "containerd://"
            + uuid.uuid5(uuid.NAMESPACE_OID, f"{pod.uid}{self.name}{self.restarts}").hex,
            "ready": self.ready and not pod.deleting and pod.phase == "Running",
            "started": self.state is None,
            "restartCount": self.restarts,
            "state": self.state or running,
            "lastState": self.last_state,
        }


@dataclass
class SimPod:
    name: str
    namespace: str
    workload: str
    ip: str
    containers: list[Container]
    forwards: dict[int, int] = field(default_factory=dict)  # pod port -> loopback port
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    phase: str = "Running"
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    resource_version: int = 0
    deleting: bool = False
    loopback6: bool = True  # ::1 inside the pod (a kernel with IPv6): what a refused dial says

    def to_json(self) -> dict[str, Any]:
        statuses = [c.status(self) for c in self.containers]
        ready = self.phase == "Running" and not self.deleting and all(s["ready"] for s in statuses)
        hash_ = self.name.rsplit("-", 2)[-2] if self.name.count("-") >= 2 else "0"
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "uid": self.uid,
                "resourceVersion": str(self.resource_version),
                "creationTimestamp": _ts(self.created),
                "labels": {"app": self.workload, "pod-template-hash": hash_, **self.labels},
                "annotations": dict(self.annotations),
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "name": f"{self.workload}-{hash_}",
                        "uid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{self.namespace}/{self.workload}")),
                        "controller": True,
                    }
                ],
                **({"deletionTimestamp": _ts(time.time())} if self.deleting else {}),
            },
            "spec": {
                "nodeName": "myk8s-control-plane",
                "containers": [
                    {
                        "name": c.name,
                        "image": c.image,
                        "ports": [{"containerPort": p, "protocol": "TCP"} for p in c.ports],
                    }
                    for c in self.containers
                ],
            },
            "status": {
                "phase": self.phase,
                "podIP": self.ip,
                "hostIP": "172.18.0.2",
                "startTime": _ts(self.created),
                "conditions": [
                    {"type": "Ready", "status": "True" if ready else "False"},
                    {"type": "ContainersReady", "status": "True" if ready else "False"},
                ],
                "containerStatuses": statuses,
            },
        }
