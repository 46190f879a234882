"""apps/v1 Deployments of the demo's workloads (kubectl rollout restart, kubectl scale)."""

from __future__ import annotations

from typing import Any

from meshtui.demo.kinds.store import OnChange, Resource


def deployment(
    name: str, namespace: str, image: str, port: int | None, labels: dict[str, str]
) -> dict[str, Any]:
    selector = {"app": name}
    container: dict[str, Any] = {"name": name, "image": image}
    if port:
        container["ports"] = [{"containerPort": port, "protocol": "TCP"}]
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {**selector, **labels}, "annotations": {}},
                "spec": {"containers": [container]},
            },
        },
    }


def _status(o: dict[str, Any], key: str) -> int:
    return int((o.get("status") or {}).get(key, 0))


def resource(on_change: OnChange) -> Resource:
    return Resource(
        "apps",
        ["v1"],
        "deployments",
        "Deployment",
        ["deploy"],
        [
            ("Ready", lambda o: f"{_status(o, 'readyReplicas')}/{o['spec'].get('replicas', 1)}"),
            ("Up-to-date", lambda o: _status(o, "updatedReplicas")),
            ("Available", lambda o: _status(o, "availableReplicas")),
        ],
        on_change=on_change,
    )
