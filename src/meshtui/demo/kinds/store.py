"""One namespaced API resource as the API server keeps it: objects, resourceVersions, events.

Enough of apimachinery's semantics for kubectl get/apply/edit/delete: create answers 201
(409 AlreadyExists when taken), get/patch/delete 404 NotFound with the details kubectl
prints, patches are JSON merge patches (strategic merge patches of the maps these objects
carry merge the same way; lists are replaced), and every change is an event for watches.
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from meshtui.demo.watchlog import WatchLog

Admit = Callable[["Resource", dict[str, Any]], "ApiError | None"]
OnChange = Callable[[str, dict[str, Any]], Awaitable[None]]


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> dict[str, Any]:
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        }


def now_ts() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


@dataclass
class Resource:
    group: str  # "" for the core group
    versions: list[str]  # served versions, preferred first
    plural: str
    kind: str
    short_names: list[str] = field(default_factory=list)
    columns: list[tuple[str, Callable[[dict[str, Any]], Any]]] = field(default_factory=list)
    admit: Admit | None = None
    on_change: OnChange | None = None
    objects: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    created: dict[tuple[str, str], float] = field(default_factory=dict)
    # its watch cache, bounded as the pods' is (demo/watchlog.py): a watch from before it
    # gets 410 Expired, and a long demo does not keep every change it ever saw
    watchlog: WatchLog = field(default_factory=WatchLog)

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    def not_found(self, name: str) -> ApiError:
        return ApiError(
            404,
            "NotFound",
            f'{self.group_resource} "{name}" not found',
            {"name": name, "group": self.group, "kind": self.plural},
        )

    def view(self, obj: dict[str, Any], version: str) -> dict[str, Any]:
        return {**obj, "apiVersion": self.api_version(version), "kind": self.kind}

    def items(self, ns: str | None) -> list[dict[str, Any]]:
        return [o for (n, _), o in sorted(self.objects.items()) if ns is None or n == ns]

    def get(self, ns: str, name: str) -> dict[str, Any]:
        obj = self.objects.get((ns, name))
        if obj is None:
            raise self.not_found(name)
        return obj

    def prepare_create(self, ns: str, body: dict[str, Any], rv: int) -> dict[str, Any]:
        meta = dict(body.get("metadata") or {})
        name = meta.get("name") or ""
        if not name:
            raise ApiError(
                422, "Invalid", f"{self.kind}.{self.group} is invalid: metadata.name: Required value"
            )
        if (ns, name) in self.objects:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{self.group_resource} "{name}" already exists',
                {"name": name, "group": self.group, "kind": self.plural},
            )
        meta.update(
            namespace=ns,
            uid=str(uuid.uuid4()),
            resourceVersion=str(rv),
            creationTimestamp=now_ts(),
            generation=1,
        )
        obj = {k: v for k, v in body.items() if k not in ("apiVersion", "kind", "status")}
        obj["metadata"] = meta
        self._admit(obj)
        return obj

    def prepare_patch(self, ns: str, name: str, patch: dict[str, Any], rv: int) -> dict[str, Any]:
        old = self.get(ns, name)
        new = merge_patch(old, {k: v for k, v in patch.items() if k not in ("apiVersion", "kind")})
        meta = new["metadata"]
        for keep in ("name", "namespace", "uid", "creationTimestamp"):
            meta[keep] = old["metadata"][keep]
        meta["resourceVersion"] = str(rv)
        if new.get("spec") != old.get("spec"):
            meta["generation"] = int(old["metadata"].get("generation", 1)) + 1
        self._admit(new)
        return new

    def _admit(self, obj: dict[str, Any]) -> None:
        if self.admit is not None:
            err = self.admit(self, obj)
            if err is not None:
                raise err

    def table(self, objs: list[dict[str, Any]], rv: int) -> dict[str, Any]:
        def age(o: dict[str, Any]) -> str:
            created = datetime.strptime(o["metadata"]["creationTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
            s = int(time.time() - created.replace(tzinfo=timezone.utc).timestamp())
            return f"{s}s" if s < 120 else f"{s // 60}m"

        cols = [("Name", lambda o: o["metadata"]["name"]), *self.columns, ("Age", age)]
        return {
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(rv)},
            "columnDefinitions": [
                {
                    "name": n,
                    "type": "string",
                    "format": "name" if n == "Name" else "",
                    "description": "",
                    "priority": 0,
                }
                for n, _ in cols
            ],
            "rows": [
                {
                    "cells": [f(o) for _, f in cols],
                    "object": {
                        "kind": "PartialObjectMetadata",
                        "apiVersion": "meta.k8s.io/v1",
                        "metadata": o["metadata"],
                    },
                }
                for o in objs
            ],
        }
