"""Pods as `kubectl get pods` prints them: the server-side Table the API server returns.

READY, STATUS and RESTARTS follow kubernetes pkg/printers/internalversion/printers.go
`printPod` (only ready *and* running containers count; the last container with a waiting or
terminated reason names the status; "Completed" beside a running one reads Running or
NotReady; RESTARTS carries "(5s ago)" from the last termination), ages follow
apimachinery pkg/util/duration/duration.go `HumanDuration`.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

COLUMNS = ["Name", "Ready", "Status", "Restarts", "Age", "IP", "Node"]


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    return f"{h // 24}d"


def _since(stamp: str, now: float) -> float:
    return now - datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def pod_cells(pod: dict[str, Any], now: float | None = None) -> list[Any]:
    now = time.time() if now is None else now
    meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    reason = status.get("reason") or status.get("phase", "")
    restarts, ready, has_running = 0, 0, False
    last_restart: float | None = None  # seconds since the newest lastState termination
    for c in reversed(status.get("containerStatuses") or []):
        restarts += int(c.get("restartCount", 0))
        finished = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        if finished:
            ago = _since(finished, now)
            last_restart = ago if last_restart is None else min(last_restart, ago)
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif c.get("ready") and "running" in state:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        conditions = {x.get("type"): x.get("status") for x in status.get("conditions") or []}
        reason = "Running" if conditions.get("Ready") == "True" else "NotReady"
    if meta.get("deletionTimestamp"):
        reason = "Terminating"
    shown = str(restarts)
    if restarts and last_restart is not None:
        shown += f" ({human_duration(last_restart)} ago)"
    return [
        meta["name"],
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        shown,
        human_duration(_since(meta["creationTimestamp"], now)),
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
    ]


def pod_table(pods: list[dict[str, Any]], resource_version: int) -> dict[str, Any]:
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": str(resource_version)},
        "columnDefinitions": [
            {
                "name": c,
                "type": "string",  # Restarts too, since it carries "(5s ago)"
                "format": "name" if c == "Name" else "",
                "description": "",
                "priority": 0 if c not in ("IP", "Node") else 1,
            }
            for c in COLUMNS
        ],
        "rows": [
            {
                "cells": pod_cells(p),
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": p["metadata"],
                },
            }
            for p in pods
        ],
    }
